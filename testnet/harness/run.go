package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pilot-agents/pilot/node"
)

// profileWait bounds the wait for the nodes' profiles to be published
// before the workload starts.
const profileWait = 3 * time.Minute

// memoryShare is the share of the machine's memory the run lets the Go
// heap grow to before collecting harder (GOMEMLIMIT unset).
const memoryShare = 0.6

// gcPercent is the garbage collector's target during a run (GOGC unset).
const gcPercent = 400

// ErrConfig marks an error in the Config or the environment found before
// anything started (a bad value, an output folder that cannot be created,
// too few file descriptors).
var ErrConfig = errors.New("harness: invalid configuration")

// run is the state of one Run.
type run struct {
	cfg  Config
	net  *testnet
	wl   *workload
	rec  *recorder
	prog *progress
	rep  *Report

	started time.Time    // of the workload
	flight  atomic.Int32 // acts in flight
	acts    sync.WaitGroup

	snapMu     sync.Mutex
	snapshots  []snapshot
	throughput []ThroughputSample
	connRun    []float64 // connections per node at each snapshot
	pending    window    // the control loop's last, unfinished window

	lastConnCounts []int // connections per running node at the end

	churnEvents, churnRestarts, churnFailures atomic.Int32
	churnDown                                 atomic.Int64 // nanoseconds
}

// snapshot is the partner degrees at a moment of the workload.
type snapshot struct {
	at      time.Duration
	degrees map[int64]int
	polo    map[int64]int // mean Polo in the observers' views (members with a view)
}

// Run starts the testnet, drives the workload for cfg.Duration, analyses
// what happened and writes the report folder. It returns the report (also
// when ctx is cancelled midway: then the nodes are closed, a partial
// report is written and Report.Interrupted is set) or an error if the
// testnet could not run (ErrConfig for a bad configuration). Every node is
// closed before it returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	// A thousand nodes keep a few GiB live; the default GOGC (100)
	// collects so often that the collector takes a large share of the
	// CPU. Trade memory, which this kind of run has, for CPU, unless
	// the user chose with GOGC.
	// The memory limit keeps that trade from running the machine out of
	// memory: near it the collector works harder again.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	}
	if total := physicalMemory(); total > 0 && os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(float64(total) * memoryShare)))
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: output folder: %w", ErrConfig, err)
	}
	net, err := newTestnet(cfg)
	if err != nil {
		return nil, err
	}
	agents := newAgents(cfg)
	sybil := make([]bool, len(agents))
	for i, a := range agents {
		sybil[i] = a.sybil
	}
	rec := newRecorder(sybil)
	wl := newWorkload(cfg, net, agents, rec)
	net.nodeConfig = func(idx int) node.Config {
		c := net.baseConfig(idx)
		c.TaskFunc = wl.work(idx)
		return c
	}
	net.profile = wl.profile
	r := &run{cfg: cfg, net: net, wl: wl, rec: rec,
		prog: newProgress(cfg.Progress, cfg.Terminal), rep: newReport(cfg)}
	return r.do(ctx)
}

func newReport(cfg Config) *Report {
	return &Report{
		Parameters: Parameters{
			Nodes: cfg.Nodes, Seed: cfg.Seed, DurationSeconds: cfg.Duration.Seconds(), Selection: string(cfg.Selection),
			Churn: cfg.Churn, Sybil: cfg.Sybil, Tags: cfg.Tags, Explore: cfg.Explore, Concurrency: cfg.Concurrency,
			SnapshotSeconds:    cfg.SnapshotEvery.Seconds(),
			TaskTimeoutSeconds: cfg.TaskTimeout.Seconds(), FindTTLSeconds: cfg.FindTTL.Seconds(),
			FindSlots: cfg.FindSlots, Observers: cfg.Observers, DHTServers: cfg.DHTServers, Bootstrap: cfg.Bootstrap,
			OutDir: cfg.OutDir, GoMaxProcs: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), PilotVersion: node.Version,
		},
		Connections:   Connections{Low: cfg.ConnLow, High: cfg.ConnHigh},
		Churn:         ChurnReport{RatePerMinute: cfg.Churn},
		Sybil:         SybilReport{Fraction: cfg.Sybil, ShareOverTime: []float64{}},
		AlphaOverTime: []AlphaSample{},
		Throughput:    []ThroughputSample{},
		Attachment:    AttachmentReport{Intervals: []AttachmentInterval{}},
		Polo:          PoloReport{Observers: []int{}},
		Tasks:         Tasks{Outcomes: map[string]int{}},
		Files:         []string{},
		Notes:         []string{},
	}
}

// note adds a remark to the report.
func (r *run) note(format string, args ...any) {
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf(format, args...))
}

func (r *run) do(ctx context.Context) (*Report, error) {
	t0 := time.Now()
	r.rep.Timings.StartedAt = t0.UTC()

	// Start-up.
	n := float64(r.cfg.Nodes)
	r.prog.show(true, "start", 0, n, fmt.Sprintf("0/%d nodes", r.cfg.Nodes))
	err := r.net.start(ctx, func(started int) {
		r.prog.show(started == r.cfg.Nodes, "start", float64(started), n,
			fmt.Sprintf("%d/%d nodes  %s  conns/node %.1f", started, r.cfg.Nodes, clock(time.Since(t0)), r.connsPerNode()))
	})
	r.prog.end()
	if err == nil {
		published := r.net.awaitProfiles(ctx, profileWait, func(published int) {
			r.prog.show(published == r.cfg.Nodes, "publish", float64(published), n,
				fmt.Sprintf("%d/%d profiles published  %s", published, r.cfg.Nodes, clock(time.Since(t0))))
		})
		r.prog.end()
		if published < r.cfg.Nodes {
			r.note("%d of %d nodes had published their profile when the workload started (after waiting %s)", published, r.cfg.Nodes, profileWait)
			if why, count := r.net.publishFailure(); count > 0 {
				r.note("the last publication attempt of %d nodes failed with: %s", count, why)
			}
		}
	}
	r.rep.Timings.StartupSeconds = time.Since(t0).Seconds()
	if err != nil && ctx.Err() == nil {
		r.net.closeAll()
		return nil, err
	}
	if ctx.Err() == nil {
		r.rep.Memory.AfterStart = r.memory()
		r.prog.note("started %d nodes in %s: heap %.1f MiB/node, %d fds, %.1f connections/node",
			r.cfg.Nodes, clock(time.Since(t0)), r.rep.Memory.AfterStart.HeapAllocPerNodeMiB,
			r.rep.Memory.AfterStart.OpenFDs, r.connsPerNode())
		r.drive(ctx)
	}
	r.rep.Interrupted = ctx.Err() != nil

	// The end: what the nodes know, before they close.
	r.finalSnapshot()
	r.rep.Memory.AtEnd = r.memory()
	edges := r.rec.edges()
	connEdges, connCounts := r.connectionGraph()
	r.lastConnCounts = connCounts
	polo := r.observePolo()
	r.prog.show(true, "stop", 0, 1, "closing nodes")
	ts := time.Now()
	r.net.closeAll()
	r.rep.Timings.ShutdownSeconds = time.Since(ts).Seconds()
	r.prog.show(true, "stop", 1, 1, fmt.Sprintf("closed %d nodes in %s", r.cfg.Nodes, clock(time.Since(ts))))
	r.prog.end()

	ta := time.Now()
	r.analyse(edges, connEdges, connCounts, polo)
	if err := r.write(edges, polo); err != nil {
		return r.rep, err
	}
	r.rep.Timings.AnalysisSeconds = time.Since(ta).Seconds()
	r.rep.Timings.TotalSeconds = time.Since(t0).Seconds()
	return r.rep, r.writeReport()
}

// drive runs the workload for cfg.Duration (or until ctx ends): the
// dispatcher, the control loop (progress, throughput, snapshots) and churn; then
// it waits for the tasks in flight.
func (r *run) drive(ctx context.Context) {
	r.started = time.Now()
	runCtx, cancel := context.WithTimeout(ctx, r.cfg.Duration)
	defer cancel()
	actCtx, cancelActs := context.WithCancel(context.Background())
	defer cancelActs()

	var loops sync.WaitGroup
	loops.Go(func() { r.control(runCtx) })
	loops.Go(func() { r.churn(runCtx) })
	r.dispatch(runCtx, actCtx)
	r.rep.Timings.RunSeconds = time.Since(r.started).Seconds()

	// Drain: the tasks in flight may finish (a task's deadline bounds
	// them), unless the run was interrupted.
	td := time.Now()
	r.showRun(true)
	r.prog.end()
	r.prog.show(true, "drain", 0, 1, fmt.Sprintf("waiting for %d tasks in flight", r.flight.Load()))
	drained := make(chan struct{})
	go func() { r.acts.Wait(); close(drained) }()
	limit := r.cfg.TaskTimeout + 20*time.Second
	if ctx.Err() != nil {
		limit = 0
	}
	select {
	case <-drained:
	case <-time.After(limit):
	case <-ctx.Done():
	}
	cancelActs()
	r.acts.Wait()
	loops.Wait()
	r.rep.Timings.DrainSeconds = time.Since(td).Seconds()
	r.prog.end()
}

// dispatch keeps cfg.Concurrency acts in flight, starting them on agents
// in a seeded random order (one act in flight per agent), until ctx ends.
// A closed loop: the network's own speed sets the task rate, which the
// report measures, instead of a target that a loaded machine would miss.
func (r *run) dispatch(ctx, actCtx context.Context) {
	rng := newRand(r.cfg.Seed, domainDispatch, 0)
	agents := r.wl.agents
	order := rng.Perm(len(agents))
	pos := 0
	slots := make(chan struct{}, r.cfg.Concurrency)
	for {
		select {
		case <-ctx.Done():
			return
		case slots <- struct{}{}:
		}
		started := false
		for range len(agents) {
			a := agents[order[pos]]
			if pos++; pos == len(order) {
				order, pos = rng.Perm(len(agents)), 0
			}
			if r.net.members[a.idx].get() == nil || !a.busy.CompareAndSwap(false, true) {
				continue
			}
			r.flight.Add(1)
			r.acts.Go(func() {
				defer func() { <-slots }()
				defer r.flight.Add(-1)
				r.wl.act(actCtx, a)
			})
			started = true
			break
		}
		if !started { // every agent busy or down: wait a little
			<-slots
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// sampleEvery is the interval of the throughput samples.
const sampleEvery = 10 * time.Second

// control redraws the progress bar every second, samples the throughput
// every sampleEvery and takes a snapshot every SnapshotEvery, until ctx
// ends.
func (r *run) control(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastSample, lastSnap := r.started, r.started
	lastCPU := cpuTime()
	var win window // since the last snapshot
	for {
		select {
		case <-ctx.Done():
			r.pending = win // finalSnapshot takes it with the drained tasks
			return
		case <-tick.C:
		}
		now := time.Now()
		r.showRun(false)
		if now.Sub(lastSample) >= sampleEvery {
			w := r.rec.take()
			cpu := cpuTime()
			r.sample(w, cpu-lastCPU, now.Sub(lastSample))
			lastCPU, lastSample = cpu, now
			win.add(w)
		}
		if now.Sub(lastSnap) >= r.cfg.SnapshotEvery {
			r.snapshot(win)
			win, lastSnap = window{}, now
		}
	}
}

// sample records the throughput of one interval.
func (r *run) sample(w window, cpu, wall time.Duration) {
	busy := -1.0
	if cpu >= 0 && wall > 0 {
		busy = cpu.Seconds() / wall.Seconds() / float64(runtime.GOMAXPROCS(0))
	}
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	r.throughput = append(r.throughput, ThroughputSample{Minutes: time.Since(r.started).Minutes(),
		TasksPerSecond: float64(w.completed) / wall.Seconds(), CPU: busy,
		P50: quantile(w.latencies, 0.5).Seconds(), Connect: quantile(w.connLats, 0.5).Seconds(),
		Inflight: int(r.flight.Load())})
}

// showRun draws the run's progress bar.
func (r *run) showRun(force bool) {
	el := time.Since(r.started)
	done, ok, failed := r.rec.totals()
	line := fmt.Sprintf("%s/%s  tasks %d (ok %d, failed %d)  %.2f/s  in flight %d  conns/node %.1f",
		clock(el), clock(r.cfg.Duration), done, ok, failed, float64(done)/max(1, el.Seconds()), r.flight.Load(), r.connsPerNode())
	if r.cfg.Churn > 0 {
		line += fmt.Sprintf("  churned %d", r.churnEvents.Load())
	}
	r.prog.show(force, "run", el.Seconds(), r.cfg.Duration.Seconds(), line)
}

// churn closes and restarts random nodes at cfg.Churn·Nodes per minute
// (never the observers), until ctx ends; it waits for the restarts in
// progress.
func (r *run) churn(ctx context.Context) {
	perMinute := r.cfg.Churn * float64(r.cfg.Nodes)
	if perMinute <= 0 {
		return
	}
	rng := newRand(r.cfg.Seed, domainChurn, 0)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(time.Duration(float64(time.Minute) / perMinute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		idx := -1
		for range 10 {
			i := r.cfg.Observers + rng.IntN(r.cfg.Nodes-r.cfg.Observers)
			if r.net.members[i].get() != nil {
				idx = i
				break
			}
		}
		if idx < 0 {
			continue
		}
		down := time.Now()
		r.net.stopMember(idx)
		r.churnEvents.Add(1)
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return // the run ends; the node stays down
			case <-time.After(r.cfg.ChurnDowntime):
			}
			if err := r.net.restartMember(ctx, idx); err != nil {
				r.churnFailures.Add(1)
				return
			}
			r.churnRestarts.Add(1)
			r.churnDown.Add(int64(time.Since(down)))
		})
	}
}

// memory samples the Go runtime after a GC.
func (r *run) memory() MemSample {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := float64(r.cfg.Nodes)
	g := runtime.NumGoroutine()
	return MemSample{
		HeapAllocMiB: mib(ms.HeapAlloc), SysMiB: mib(ms.Sys),
		HeapAllocPerNodeMiB: mib(ms.HeapAlloc) / n, SysPerNodeMiB: mib(ms.Sys) / n,
		Goroutines: g, GoroutinesPerNode: float64(g) / n, OpenFDs: openFDs(),
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
