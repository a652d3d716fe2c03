package natlab

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Scenario is one NAT-traversal experiment: peer B behind NAT kind B,
// peer C behind NAT kind C, both bootstrapped from a public anchor.
type Scenario struct {
	Name   string
	B, C   NATKind
	Expect string // "direct" or "relayed" once B and C trust each other
	// Transports it runs with; nil means all of Transports.
	Transports []string
	// RestartAnchor kills the anchor (SIGKILL) while B and C are on their
	// direct path and starts it again: the session must survive and, once
	// the anchor is back, an outsider must reach B over the relay again.
	RestartAnchor bool
	// Outsider starts a third, untrusted node D behind its own NAT once B
	// and C trust each other: D must reach B only through the relay and
	// learn no direct address of B.
	Outsider bool
}

// Scenarios are the lab's standard experiments.
var Scenarios = []Scenario{
	{Name: "cone-cone", B: Cone, C: Cone, Expect: "direct"},
	{Name: "public-nat", B: Cone, C: None, Expect: "direct"},
	{Name: "symmetric", B: Symmetric, C: Cone, Expect: "relayed"},
	// QUIC-only cannot work when UDP is blocked (B cannot even reach the
	// anchor), so the scenario asks whether TCP carries the session.
	{Name: "udp-blocked", B: UDPBlocked, C: None, Expect: "direct", Transports: []string{"tcp", "both"}},
	{Name: "anchor-restart", B: Cone, C: Cone, Expect: "direct", RestartAnchor: true},
	{Name: "privacy", B: Cone, C: Cone, Expect: "direct", Outsider: true},
}

// Transports are the transport variants a scenario runs with.
var Transports = []string{"tcp", "quic", "both"}

// TransportsOf returns the transports sc runs with.
func TransportsOf(sc Scenario) []string {
	if sc.Transports != nil {
		return sc.Transports
	}
	return Transports
}

// Result is what one scenario run measured.
type Result struct {
	Scenario          string  `json:"scenario"`
	Transport         string  `json:"transport"`
	Expect            string  `json:"expect"`
	Path              string  `json:"path"`
	TimeToFirstByteMs float64 `json:"time_to_first_byte_ms"` // untrusted echo over the relay
	TimeToDirectMs    float64 `json:"time_to_direct_ms"`     // from approval to a direct connection; -1 if none
	RelayMBps         float64 `json:"relay_mb_per_s"`        // TransferBytes over the relay
	FinalMBps         float64 `json:"final_mb_per_s"`        // TransferBytes once trusted, on Path
	TransferBytes     int64   `json:"transfer_bytes"`
	BytesMatch        bool    `json:"bytes_match"`
	// Leaked lists the non-relay addresses of B that C (untrusted) saw in
	// B's DHT record or its connection to B; anything here fails the run.
	Leaked []string `json:"leaked"`
	// Anchor restart: whether B and C's direct connection (the same one)
	// and a transfer running across the crash survived, and how long after
	// the anchor was back an outsider's echo first reached B over the
	// relay (this includes starting the outsider, ~1 s).
	SessionSurvived      *bool   `json:"session_survived,omitempty"`
	TransferCrossedCrash bool    `json:"transfer_crossed_crash,omitempty"` // the transfer was still running when the anchor died
	NewSessionAfterMs    float64 `json:"new_session_after_restart_ms,omitempty"`
	// OutsiderFirstByteMs is the untrusted outsider D's echo to B over the
	// relay (privacy and anchor-restart scenarios), the one that worked.
	OutsiderFirstByteMs float64 `json:"outsider_first_byte_ms,omitempty"`
	Pass                bool    `json:"pass"`
	Error               string  `json:"error,omitempty"`
	Lab                 string  `json:"lab"` // the lab's ID: its namespaces are pl-<lab>-*

	outsiderAt time.Time // when the outsider's echo came back
}

// Options tune a run.
type Options struct {
	Bin           string        // the pilot binary
	WorkDir       string        // homes and payloads go here
	TransferBytes int64         // default 16 MiB
	DirectWait    time.Duration // how long to wait for a direct path; default 30 s
}

func (o *Options) defaults() {
	if o.TransferBytes <= 0 {
		o.TransferBytes = 16 << 20
	}
	if o.DirectWait <= 0 {
		o.DirectWait = 30 * time.Second
	}
}

func listenArgs(ip, transport string) []string {
	var out []string
	if transport != "quic" {
		out = append(out, "--listen", "/ip4/"+ip+"/tcp/4410")
	}
	if transport != "tcp" {
		out = append(out, "--listen", "/ip4/"+ip+"/udp/4410/quic-v1")
	}
	return out
}

// Run runs one scenario with one transport in a fresh lab and tears the
// lab down again, whatever happens.
func Run(ctx context.Context, sc Scenario, transport string, opts Options) (res Result) {
	opts.defaults()
	res = Result{Scenario: sc.Name, Transport: transport, Expect: sc.Expect, TimeToDirectMs: -1, TransferBytes: opts.TransferBytes}
	fail := func(err error) Result {
		res.Error = err.Error()
		res.Pass = false
		return res
	}
	lab, err := New(ctx)
	if err != nil {
		return fail(err)
	}
	defer lab.Close()
	res.Lab = lab.ID
	stop := lab.CloseOnSignal(ctx)
	defer stop()

	work := filepath.Join(opts.WorkDir, sc.Name+"-"+transport)
	hA, err := lab.AddHostContext(ctx, "anchor", None)
	if err != nil {
		return fail(err)
	}
	hB, err := lab.AddHostContext(ctx, "b", sc.B)
	if err != nil {
		return fail(err)
	}
	hC, err := lab.AddHostContext(ctx, "c", sc.C)
	if err != nil {
		return fail(err)
	}
	start := func(h *Host, name string, args ...string) (*Daemon, error) {
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		return StartDaemon(sctx, opts.Bin, h, filepath.Join(work, name), args...)
	}
	a, err := start(hA, "anchor", append([]string{"--anchor"}, listenArgs(hA.Addr.String(), transport)...)...)
	if err != nil {
		return fail(err)
	}
	defer a.Stop()
	boot := make([]string, 0, 2)
	for _, j := range a.Join {
		boot = append(boot, "--bootstrap", j)
	}
	b, err := start(hB, "b", append(boot, listenArgs("0.0.0.0", transport)...)...)
	if err != nil {
		return fail(err)
	}
	defer b.Stop()
	c, err := start(hC, "c", append(boot, listenArgs("0.0.0.0", transport)...)...)
	if err != nil {
		return fail(err)
	}
	defer c.Stop()
	if err := measure(ctx, &res, a, b, c, opts, work); err != nil {
		return fail(fmt.Errorf("%w (logs: B: %s | C: %s)", err, b.LogTail(), c.LogTail()))
	}
	var anchorBack time.Time
	if sc.RestartAnchor {
		na, err := restartAnchor(ctx, &res, a, b, c, work, opts.TransferBytes)
		anchorBack = time.Now()
		if na != nil {
			defer na.Stop()
		}
		if err != nil {
			return fail(fmt.Errorf("anchor restart: %w (logs: B: %s | C: %s)", err, b.LogTail(), c.LogTail()))
		}
	}
	if sc.RestartAnchor || sc.Outsider {
		hD, err := lab.AddHostContext(ctx, "d", Cone)
		if err != nil {
			return fail(err)
		}
		d, err := start(hD, "d", append(boot, listenArgs("0.0.0.0", transport)...)...)
		if err != nil {
			return fail(err)
		}
		defer d.Stop()
		if err := outsider(ctx, &res, b, c, d); err != nil {
			return fail(fmt.Errorf("outsider: %w (logs: B: %s | D: %s)", err, b.LogTail(), d.LogTail()))
		}
		if !anchorBack.IsZero() {
			res.NewSessionAfterMs = ms(res.outsiderAt.Sub(anchorBack))
		}
	}
	res.Pass = res.Path == sc.Expect && res.BytesMatch && len(res.Leaked) == 0 &&
		(res.SessionSurvived == nil || *res.SessionSurvived)
	if !res.Pass {
		res.Error = fmt.Sprintf("path %s (want %s), bytes match %v, leaked %v; B log: %s | C log: %s",
			res.Path, sc.Expect, res.BytesMatch, res.Leaked, b.LogTail(), c.LogTail())
		if res.SessionSurvived != nil && !*res.SessionSurvived {
			res.Error = "the direct session did not survive the anchor restart; " + res.Error
		}
	}
	return res
}

// measure runs the experiment between daemons b and c.
func measure(ctx context.Context, res *Result, a, b, c *Daemon, opts Options, work string) error {
	// Both publish a relay address; c finds b - and only relay addresses.
	if err := poll(ctx, 60*time.Second, func() error {
		var r struct{ Addrs []string }
		if err := c.CLI(ctx, &r, "resolve", b.Address); err != nil {
			return err
		}
		if len(r.Addrs) == 0 {
			return errors.New("b has no relay address yet")
		}
		res.Leaked = append(res.Leaked, direct(r.Addrs)...)
		return nil
	}); err != nil {
		return err
	}
	// Untrusted: only public ports, only the relay.
	for _, port := range []string{"7", "1001"} {
		if err := b.CLI(ctx, nil, "port", "public", port); err != nil {
			return err
		}
	}
	t0 := time.Now()
	if err := c.CLI(ctx, nil, "echo", b.Address, "first byte"); err != nil {
		return fmt.Errorf("echo over the relay: %w", err)
	}
	res.TimeToFirstByteMs = ms(time.Since(t0))
	var peers struct {
		Peers []struct {
			Address string `json:"address"`
			Remote  string `json:"remote_addr"`
		}
	}
	if err := c.CLI(ctx, &peers, "peers"); err != nil {
		return err
	}
	for _, p := range peers.Peers {
		if p.Address == b.Address {
			res.Leaked = append(res.Leaked, direct([]string{p.Remote})...)
		}
	}
	payload := filepath.Join(work, "payload.bin")
	sum, err := writePayload(payload, opts.TransferBytes)
	if err != nil {
		return err
	}
	d, match, err := transfer(ctx, b, c, payload, sum)
	if err != nil {
		return fmt.Errorf("relayed transfer: %w", err)
	}
	res.RelayMBps, res.BytesMatch = mbps(opts.TransferBytes, d), match

	// Trust, then wait for a direct path.
	if err := c.CLI(ctx, nil, "trust", "request", b.Address, "--message", "natlab"); err != nil {
		return err
	}
	if err := poll(ctx, 30*time.Second, func() error { return b.CLI(ctx, nil, "trust", "approve", c.Address) }); err != nil {
		return err
	}
	t1 := time.Now()
	res.Path = "relayed"
	_ = poll(ctx, opts.DirectWait, func() error {
		var p struct {
			Peers []struct{ Address, Path string }
		}
		if err := c.CLI(ctx, &p, "peers"); err != nil {
			return err
		}
		for _, pe := range p.Peers {
			if pe.Address == b.Address && pe.Path == "direct" {
				res.Path = "direct"
				res.TimeToDirectMs = ms(time.Since(t1))
				return nil
			}
		}
		return errors.New("no direct connection yet")
	})
	d, match, err = transfer(ctx, b, c, payload, sum)
	if err != nil {
		return fmt.Errorf("transfer after trust: %w", err)
	}
	res.FinalMBps = mbps(opts.TransferBytes, d)
	res.BytesMatch = res.BytesMatch && match
	return nil
}

// transfer sends the payload file from c to b and checks what b stored.
func transfer(ctx context.Context, b, c *Daemon, payload, sum string) (time.Duration, bool, error) {
	var sent struct{ ID string }
	start := time.Now()
	if err := c.CLI(ctx, &sent, "send", b.Address, "--file", payload, "--timeout", "5m"); err != nil {
		return 0, false, err
	}
	d := time.Since(start)
	var got struct{ Path string }
	if err := b.CLI(ctx, &got, "inbox", "get", sent.ID); err != nil {
		return d, false, err
	}
	gotSum, err := fileSum(got.Path)
	if err != nil {
		return d, false, err
	}
	return d, gotSum == sum, nil
}

func writePayload(path string, n int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(rand.Reader, n)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Sync()
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// poll retries f until it succeeds or timeout passes.
func poll(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mbps(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds() / 1e6
}

// direct keeps the addresses that are not relay (p2p-circuit) addresses.
func direct(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if !strings.Contains(a, "/p2p-circuit") {
			out = append(out, a)
		}
	}
	return out
}
