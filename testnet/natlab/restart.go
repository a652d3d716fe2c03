package natlab

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// peerPath is how daemon from is connected to the node at addr: its path
// ("direct" or "relayed") and the remote address of that connection.
func peerPath(ctx context.Context, from *Daemon, addr string) (path, remote string, err error) {
	var p struct {
		Peers []struct {
			Address string `json:"address"`
			Path    string `json:"path"`
			Remote  string `json:"remote_addr"`
		}
	}
	if err := from.CLI(ctx, &p, "peers"); err != nil {
		return "", "", err
	}
	for _, pe := range p.Peers {
		if pe.Address == addr {
			return pe.Path, pe.Remote, nil
		}
	}
	return "", "", fmt.Errorf("%s is not connected to %s", from.Address, addr)
}

// restartAnchor is scenario 5: with B and C on their direct path, a
// transfer from C to B starts, the anchor is killed with SIGKILL and
// started again from the same home (same identity, same addresses). The
// transfer must arrive intact, C must still be on the same direct
// connection to B, and both must hold relay reservations on the anchor
// again. It returns the new anchor daemon, to be stopped by the caller.
func restartAnchor(ctx context.Context, res *Result, a, b, c *Daemon, work string, size int64) (*Daemon, error) {
	survived := false
	res.SessionSurvived = &survived
	path, before, err := peerPath(ctx, c, b.Address)
	if err != nil {
		return nil, err
	}
	if path != "direct" {
		return nil, fmt.Errorf("C is %s to B before the restart; the scenario needs a direct session", path)
	}
	payload := filepath.Join(work, "payload-restart.bin")
	sum, err := writePayload(payload, 4*size) // long enough to be under way at the crash
	if err != nil {
		return nil, err
	}
	type sent struct {
		match bool
		err   error
	}
	done := make(chan sent, 1)
	go func() {
		_, match, err := transfer(ctx, b, c, payload, sum)
		done <- sent{match, err}
	}()
	time.Sleep(200 * time.Millisecond) // let the transfer get under way
	select {
	case tr := <-done:
		done <- tr
	default:
		res.TransferCrossedCrash = true
	}
	if err := a.Crash(); err != nil {
		return nil, err
	}
	down := time.Now()
	tr := <-done
	if tr.err != nil {
		return nil, fmt.Errorf("transfer across the anchor crash: %w", tr.err)
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	na, err := a.Restart(sctx)
	if err != nil {
		return nil, fmt.Errorf("start the anchor again: %w", err)
	}
	// The nodes notice the restart by themselves (their anchor probe, or
	// the connection dropping) and reserve again; wait until both say so.
	for _, d := range []*Daemon{b, c} {
		if err := poll(ctx, 45*time.Second, func() error {
			var st struct {
				Reservations []string `json:"relay_reservations"`
			}
			if err := d.CLI(ctx, &st, "status"); err != nil {
				return err
			}
			if len(st.Reservations) == 0 {
				return errors.New("no relay reservation")
			}
			return nil
		}); err != nil {
			return na, fmt.Errorf("%s holds no relay reservation after the restart (down at %s): %w", d.Address, down.Format(time.TimeOnly), err)
		}
	}
	path, after, err := peerPath(ctx, c, b.Address)
	if err != nil {
		return na, err
	}
	survived = tr.match && path == "direct" && after == before
	if !survived {
		return na, fmt.Errorf("after the restart C is %s to B over %s (before: direct over %s), transfer intact: %v", path, after, before, tr.match)
	}
	return na, nil
}

// outsider checks scenarios 5 and 6 from an untrusted third node D behind
// its own NAT: it resolves B and sees only relay addresses, its first echo
// reaches B over the relay (timed), and its connection to B is relayed -
// B and C's trust gives D nothing. B and C stay direct.
func outsider(ctx context.Context, res *Result, b, c, d *Daemon) error {
	if err := poll(ctx, 60*time.Second, func() error {
		var r struct{ Addrs []string }
		if err := d.CLI(ctx, &r, "resolve", b.Address); err != nil {
			return err
		}
		if len(r.Addrs) == 0 {
			return errors.New("no address for B yet")
		}
		res.Leaked = append(res.Leaked, direct(r.Addrs)...)
		return nil
	}); err != nil {
		return err
	}
	// After an anchor restart B may still be re-reserving: retry, bounded
	// by the keeper's probe interval and a reservation.
	if err := poll(ctx, 45*time.Second, func() error {
		t0 := time.Now()
		if err := d.CLI(ctx, nil, "echo", b.Address, "outsider"); err != nil {
			return fmt.Errorf("echo over the relay: %w", err)
		}
		res.outsiderAt = time.Now()
		res.OutsiderFirstByteMs = ms(res.outsiderAt.Sub(t0))
		return nil
	}); err != nil {
		return err
	}
	_, remote, err := peerPath(ctx, d, b.Address)
	if err != nil {
		return err
	}
	res.Leaked = append(res.Leaked, direct([]string{remote})...)
	if path, _, err := peerPath(ctx, c, b.Address); err != nil || path != "direct" {
		return fmt.Errorf("B and C left their direct path (%q, %v)", path, err)
	}
	return nil
}
