package harness

import (
	"time"

	"github.com/pilot-agents/pilot/testnet/analysis"
)

// Report is the outcome of a run, written as report.json. Durations are in
// seconds, memory in MiB.
type Report struct {
	Parameters  Parameters  `json:"parameters"`
	Interrupted bool        `json:"interrupted"` // the run was stopped early (SIGINT); the figures cover what ran
	Timings     Timings     `json:"timings"`
	Memory      Memory      `json:"memory"`
	Connections Connections `json:"connections"`
	Tasks       Tasks       `json:"tasks"`
	Finds       Finds       `json:"finds"`
	Sybil       SybilReport `json:"sybil"`
	Churn       ChurnReport `json:"churn"`
	// PartnerGraph analyses the distinct-task-partner graph: an edge
	// between a requester and a worker that completed (succeeded or
	// failed) at least one task.
	PartnerGraph      analysis.Report `json:"partner_graph"`
	PartnerGraphError string          `json:"partner_graph_error,omitempty"`
	// ConnectionGraph analyses the live host connections at the end.
	ConnectionGraph      analysis.Report    `json:"connection_graph"`
	ConnectionGraphError string             `json:"connection_graph_error,omitempty"`
	Attachment           AttachmentReport   `json:"attachment"`
	AlphaOverTime        []AlphaSample      `json:"alpha_over_time"`
	Polo                 PoloReport         `json:"polo"`
	Throughput           []ThroughputSample `json:"throughput"`
	Files                []string           `json:"files"`
	Notes                []string           `json:"notes"`
}

// Parameters are the run's settings after defaults.
type Parameters struct {
	Nodes              int     `json:"nodes"`
	Seed               uint64  `json:"seed"`
	DurationSeconds    float64 `json:"duration_seconds"`
	Selection          string  `json:"selection"`
	Churn              float64 `json:"churn_per_minute"`
	Sybil              float64 `json:"sybil_fraction"`
	Tags               int     `json:"tags"`
	Explore            float64 `json:"explore"`
	Concurrency        int     `json:"concurrency"`
	SnapshotSeconds    float64 `json:"snapshot_seconds"`
	TaskTimeoutSeconds float64 `json:"task_timeout_seconds"`
	FindTTLSeconds     float64 `json:"find_ttl_seconds"`
	FindSlots          int     `json:"find_slots"`
	Observers          int     `json:"observers"`
	DHTServers         int     `json:"dht_servers"`
	Bootstrap          int     `json:"bootstrap"`
	OutDir             string  `json:"out_dir"`
	GoMaxProcs         int     `json:"gomaxprocs"`
	GoVersion          string  `json:"go_version"`
	PilotVersion       string  `json:"pilot_version"`
}

// Timings of the phases.
type Timings struct {
	StartedAt       time.Time `json:"started_at"`
	StartupSeconds  float64   `json:"startup_seconds"`  // starting every node and publishing its profile
	RunSeconds      float64   `json:"run_seconds"`      // the workload
	DrainSeconds    float64   `json:"drain_seconds"`    // waiting for the tasks in flight at the end
	ShutdownSeconds float64   `json:"shutdown_seconds"` // closing every node
	AnalysisSeconds float64   `json:"analysis_seconds"` // statistics, plots, files
	TotalSeconds    float64   `json:"total_seconds"`
}

// Memory after start-up and at the end of the workload.
type Memory struct {
	AfterStart MemSample `json:"after_start"`
	AtEnd      MemSample `json:"at_end"`
}

// MemSample is runtime.MemStats after a GC, whole and per node.
type MemSample struct {
	HeapAllocMiB        float64 `json:"heap_alloc_mib"`
	SysMiB              float64 `json:"sys_mib"`
	HeapAllocPerNodeMiB float64 `json:"heap_alloc_per_node_mib"`
	SysPerNodeMiB       float64 `json:"sys_per_node_mib"`
	Goroutines          int     `json:"goroutines"`
	GoroutinesPerNode   float64 `json:"goroutines_per_node"`
	OpenFDs             int     `json:"open_fds"` // -1: unknown
}

// Connections are the nodes' host connections (each loopback connection
// counts at both ends).
type Connections struct {
	PerNodeMean    float64 `json:"per_node_mean"`     // at the end
	PerNodeMax     int     `json:"per_node_max"`      // at the end
	PerNodeMeanRun float64 `json:"per_node_mean_run"` // mean over the snapshots
	Low            int     `json:"conn_low"`          // connection manager water marks
	High           int     `json:"conn_high"`
}

// Tasks counts the workload's actions and tasks.
type Tasks struct {
	Actions     int            `json:"actions"`   // acts started (tasks attempted, lookups included)
	Total       int            `json:"total"`     // completed tasks: succeeded + failed
	Succeeded   int            `json:"succeeded"` //
	Failed      int            `json:"failed"`    // the worker's work failed (its quality)
	SuccessRate float64        `json:"success_rate"`
	PerSecond   float64        `json:"per_second"`          // completed tasks per second of the workload
	Outcomes    map[string]int `json:"outcomes"`            // every action's outcome
	LatencyP50  float64        `json:"latency_p50_seconds"` // submission to end of a completed task
	LatencyP90  float64        `json:"latency_p90_seconds"`
	ConnectP50  float64        `json:"connect_p50_seconds"` // reaching the worker first (a DHT lookup unless connected)
	ConnectP90  float64        `json:"connect_p90_seconds"`
	ActsMin     int            `json:"acts_per_agent_min"`
	ActsMedian  int            `json:"acts_per_agent_median"`
	ActsMax     int            `json:"acts_per_agent_max"`
}

// Finds counts the provider lookups by source.
type Finds struct {
	Own            int     `json:"own"`    // node.FindProviders by the agent itself
	Cached         int     `json:"cached"` // the agent's own cache, younger than FindTTL
	Failed         int     `json:"failed"`
	MeanOwnSeconds float64 `json:"mean_own_seconds"`
}

// SybilReport is where honest requesters sent their tasks.
type SybilReport struct {
	Fraction      float64   `json:"fraction"`
	Agents        int       `json:"agents"`
	HonestTasks   int       `json:"honest_tasks"`    // tasks honest agents submitted
	ToSybil       int       `json:"to_sybil_tasks"`  // of them, to a Sybil
	Share         float64   `json:"share"`           // ToSybil / HonestTasks
	ShareOverTime []float64 `json:"share_over_time"` // per snapshot interval
	FakeTasks     int       `json:"fake_tasks"`      // completed Sybil-to-Sybil tasks
}

// ChurnReport counts the restarts.
type ChurnReport struct {
	RatePerMinute   float64 `json:"rate_per_minute"` // fraction of nodes
	Events          int     `json:"events"`          // nodes closed
	Restarts        int     `json:"restarts"`        // and started again
	RestartFailures int     `json:"restart_failures"`
	DowntimeSeconds float64 `json:"downtime_seconds"` // mean, close to running again
}

// AttachmentReport is the preferential-attachment exponent of the partner
// graph between two snapshots (the one nearest the middle of the run and
// the end), and per snapshot interval.
type AttachmentReport struct {
	Beta        float64              `json:"beta"`  // gained ∝ k^Beta
	CI          [2]float64           `json:"ci"`    // 95 % bootstrap interval
	Nodes       int                  `json:"nodes"` // nodes in the fit
	FromMinutes float64              `json:"from_minutes"`
	ToMinutes   float64              `json:"to_minutes"`
	Error       string               `json:"error,omitempty"`
	Intervals   []AttachmentInterval `json:"intervals"`
	// Polo is the attachment driven by reputation over the same window:
	// a node with Polo s (mean of the observers' views at FromMinutes)
	// gained new partners at a rate ∝ s^Beta.
	Polo PoloAttachment `json:"polo"`
}

// PoloAttachment is the rate of gaining partners fitted as a power of
// the Polo score (analysis.ScoreAttachmentExponent).
type PoloAttachment struct {
	Beta  float64    `json:"beta"`
	CI    [2]float64 `json:"ci"` // 95 % bootstrap interval
	Nodes int        `json:"nodes"`
	Error string     `json:"error,omitempty"`
}

// AttachmentInterval is the exponent over one snapshot interval.
type AttachmentInterval struct {
	Beta        float64    `json:"beta"`
	CI          [2]float64 `json:"ci"`
	Nodes       int        `json:"nodes"`
	FromMinutes float64    `json:"from_minutes"`
	ToMinutes   float64    `json:"to_minutes"`
	Error       string     `json:"error,omitempty"`
}

// AlphaSample is one snapshot: the power-law fit of the partner degrees
// so far (Lo, Hi: ± one standard error, (α−1)/√n_tail), and the state of
// the network.
type AlphaSample struct {
	Minutes      float64 `json:"minutes"`
	Alpha        float64 `json:"alpha"`
	Lo           float64 `json:"lo"`
	Hi           float64 `json:"hi"`
	Xmin         int     `json:"xmin"`
	NTail        int     `json:"n_tail"`
	Kmax         int     `json:"kmax"`
	Nodes        int     `json:"nodes"` // agents with a partner
	Edges        int     `json:"edges"`
	Tasks        int     `json:"tasks"` // completed so far
	ConnsPerNode float64 `json:"conns_per_node"`
	SybilShare   float64 `json:"sybil_share"` // of honest tasks in the interval
	Error        string  `json:"error,omitempty"`
}

// PoloReport is the Polo scores the observers hold at the end.
type PoloReport struct {
	Observers       []int   `json:"observers"`        // member indices
	MeanHonest      float64 `json:"mean_honest"`      // mean observed Polo of honest agents
	MeanSybil       float64 `json:"mean_sybil"`       // of Sybils
	SpearmanDegree  float64 `json:"spearman_degree"`  // rank correlation of Polo and partner degree
	SpearmanQuality float64 `json:"spearman_quality"` // of Polo and hidden quality (honest agents)
	Attestations    float64 `json:"attestations"`     // mean number an observer holds
	Coverage        float64 `json:"coverage"`         // Attestations / completed tasks
}

// ThroughputSample is one interval of the workload.
type ThroughputSample struct {
	Minutes        float64 `json:"minutes"`
	TasksPerSecond float64 `json:"tasks_per_second"`    // completed in the interval
	CPU            float64 `json:"cpu"`                 // share of GOMAXPROCS busy, -1 unknown
	P50            float64 `json:"p50_seconds"`         // median task, submission to end
	Connect        float64 `json:"connect_p50_seconds"` // median Connect before a task
	Inflight       int     `json:"inflight"`
}
