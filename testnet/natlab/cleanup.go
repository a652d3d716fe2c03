package natlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidDir holds one owner file per lab: /run/pilot-natlab/<id>.pid with
// "<pid> <start time in clock ticks>", so a reused PID is not taken for a
// live owner.
const pidDir = "/run/pilot-natlab"

// netnsDir is where `ip netns add` pins named namespaces.
const netnsDir = "/run/netns"

// killWait bounds the wait for killed processes to leave a namespace.
const killWait = 10 * time.Second

// nsPattern matches the namespaces of a lab: pl-<id>-inet, -hN and -rN.
var nsPattern = regexp.MustCompile(`^pl-([0-9a-f]{4})-(inet|[hr][0-9]{1,3})$`)

func pidFile(id string) string { return filepath.Join(pidDir, id+".pid") }

// ownerRecord is the content of an owner file for pid.
func ownerRecord(pid int) string { return fmt.Sprintf("%d %s\n", pid, startTime(pid)) }

// startTime is field 22 of /proc/<pid>/stat ("" if the process is gone).
func startTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// ownerAlive reports whether the process recorded as the lab's owner still
// runs. A missing or unreadable owner file counts as dead.
func ownerAlive(id string) bool {
	b, err := os.ReadFile(pidFile(id))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return false
	}
	st := startTime(pid)
	return st != "" && st == f[1]
}

// listNamespaces returns the lab namespaces present, by lab ID.
func listNamespaces() (map[string][]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("natlab: %w", err)
	}
	labs := map[string][]string{}
	for _, e := range entries {
		if m := nsPattern.FindStringSubmatch(e.Name()); m != nil {
			labs[m[1]] = append(labs[m[1]], e.Name())
		}
	}
	return labs, nil
}

// Cleanup removes the leftovers of every lab whose owner process is dead
// (crashed or killed runs): it kills the processes still inside their
// namespaces, deletes the namespaces and the owner files. Labs of live
// processes, including this one, are left alone. It returns the namespaces
// it removed. New calls it first unless Config.KeepStale is set.
func Cleanup(ctx context.Context) (removed []string, err error) {
	labs, err := listNamespaces()
	if err != nil {
		return nil, err
	}
	if files, _ := filepath.Glob(filepath.Join(pidDir, "*.pid")); files != nil {
		for _, f := range files {
			id := strings.TrimSuffix(filepath.Base(f), ".pid")
			if _, ok := labs[id]; !ok && len(id) == 4 {
				labs[id] = nil // an owner file alone (crash between steps)
			}
		}
	}
	ids := make([]string, 0, len(labs))
	for id := range labs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		if ownerAlive(id) {
			continue
		}
		nss := labs[id]
		slices.Sort(nss)
		if rerr := removeNamespaces(ctx, nss); rerr != nil {
			errs = append(errs, rerr)
			continue
		}
		removed = append(removed, nss...)
		if rerr := os.Remove(pidFile(id)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			errs = append(errs, rerr)
		}
	}
	return removed, errors.Join(errs...)
}

// removeNamespaces kills every process inside the namespaces, waits (until
// ctx is done) for them to go, then deletes the namespaces. A namespace
// that is already gone is not an error.
func removeNamespaces(ctx context.Context, nss []string) error {
	var errs []error
	for _, ns := range nss {
		if err := emptyNamespace(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ns := range nss {
		if !exists(ns) {
			continue
		}
		if err := run(ctx, []string{"ip", "netns", "del", ns}, ""); err != nil && exists(ns) {
			errs = append(errs, err)
		}
	}
	for _, ns := range nss {
		if exists(ns) {
			errs = append(errs, fmt.Errorf("natlab: namespace %s still exists", ns))
		}
	}
	return errors.Join(errs...)
}

func exists(ns string) bool {
	_, err := os.Stat(filepath.Join(netnsDir, ns))
	return err == nil
}

// emptyNamespace SIGKILLs the processes inside ns (only the lab's own
// programs can be there) and polls until none is left, for at most
// killWait.
func emptyNamespace(ctx context.Context, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, killWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if !exists(ns) {
			return nil
		}
		out, err := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
		if err != nil {
			if !exists(ns) {
				return nil
			}
			return fmt.Errorf("natlab: ip netns pids %s: %w", ns, err)
		}
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return nil
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("natlab: processes %v still in %s: %w", pids, ns, ctx.Err())
		case <-tick.C:
		}
	}
}
