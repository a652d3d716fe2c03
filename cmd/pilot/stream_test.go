package main

import (
	"context"
	"io"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// ndjson decodes every line of stdout as an ok-envelope into a new T.
func ndjson[T any](t *testing.T, stdout string) []T {
	t.Helper()
	var out []T
	for line := range strings.Lines(stdout) {
		var v T
		decodeOK(t, line, &v)
		out = append(out, v)
	}
	return out
}

func TestSubscribeCount(t *testing.T) {
	f := &fakeBackend{}
	home := startFake(t, f)

	r := cli(t, home, "subscribe", "weather", "--count", "2", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	events := ndjson[localapi.TopicEvent](t, r.stdout)
	if len(events) != 2 || events[0].Data != "message 1" || events[1].Data != "message 2" || events[1].FromAddr != otherAddr || events[0].Topic != "weather" {
		t.Errorf("events %+v, want messages 1 and 2", events)
	}
	if got := f.lastReq(t); got != (subscribeReq{"weather", 2}) {
		t.Errorf("daemon got %+v, want the topic and count 2", got)
	}

	r = cli(t, home, "subscribe", "weather", "--count", "3")
	want := "[0a0b.0c0d.0e0f] message 1\n[0a0b.0c0d.0e0f] message 2\n[0a0b.0c0d.0e0f] message 3\n"
	if r.code != 0 || r.stderr != "" || r.stdout != want {
		t.Errorf("text: exit %d stdout %q stderr %q, want %q", r.code, r.stdout, r.stderr, want)
	}
}

func TestEventsCount(t *testing.T) {
	home := startFake(t, &fakeBackend{})
	r := cli(t, home, "events", "--json", "--count", "2")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	events := ndjson[localapi.LocalEvent](t, r.stdout)
	want := []localapi.LocalEvent{
		{Kind: "connected", Peer: "12D3KooWOther", Address: otherAddr, At: "2025-01-02T03:04:05Z"},
		{Kind: "trust_request", Peer: "12D3KooWOther", Address: otherAddr, At: "2025-01-02T03:04:06Z", Detail: map[string]string{"message": "let me in", "state": "incoming_pending"}},
	}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events %+v, want %+v", events, want)
	}

	r = cli(t, home, "events", "--count", "3")
	wantText := "2025-01-02T03:04:05Z connected 0a0b.0c0d.0e0f\n" +
		"2025-01-02T03:04:06Z trust_request 0a0b.0c0d.0e0f message=\"let me in\" state=incoming_pending\n" +
		"2025-01-02T03:04:07Z message - id=m1 note=\"tab\\there\"\n"
	if r.code != 0 || r.stdout != wantText {
		t.Errorf("text: exit %d stdout %q, want %q", r.code, r.stdout, wantText)
	}
}

// TestStreamError: a stream the daemon ends with an error prints what came
// before, then the error envelope on stderr, and exits non-zero.
func TestStreamError(t *testing.T) {
	f := &fakeBackend{streamErr: localapi.Errorf(localapi.CodeInternal, "see the daemon's log", "gossip: subscription cancelled")}
	home := startFake(t, f)
	for _, args := range [][]string{{"subscribe", "weather", "--json"}, {"events", "--json"}, {"subscribe", "weather", "--count", "5", "--json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := cli(t, home, args...)
			if r.code != exitFailure {
				t.Errorf("exit %d, want %d", r.code, exitFailure)
			}
			if n := strings.Count(r.stdout, "\n"); n != 3 {
				t.Errorf("%d lines on stdout, want the 3 items: %q", n, r.stdout)
			}
			env := wantError(t, result{r.code, "", r.stderr}, localapi.CodeInternal, exitFailure)
			if *env.Message != "gossip: subscription cancelled" {
				t.Errorf("message %q", *env.Message)
			}
		})
	}
}

// TestStreamEndsEarly: the daemon closing the stream cleanly (it stopped)
// is not a success for a command that runs until interrupted.
func TestStreamEndsEarly(t *testing.T) {
	home := startBackend(t, &earlyEnd{})
	r := cli(t, home, "subscribe", "weather", "--json")
	env := wantError(t, result{r.code, "", r.stderr}, localapi.CodeInternal, exitFailure)
	if !strings.Contains(*env.Message, "the daemon ended the subscription stream after 1 item") {
		t.Errorf("message %q", *env.Message)
	}
	if strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("stdout %q, want the one item", r.stdout)
	}
}

// earlyEnd streams one message and ends the stream cleanly.
type earlyEnd struct{ fakeBackend }

func (*earlyEnd) Subscribe(_ context.Context, topic string, _ int, emit func(localapi.TopicEvent) error) error {
	return emit(localapi.TopicEvent{Topic: topic, Data: "only"})
}

// runAsync runs the CLI in a goroutine with a cancellable context, an
// empty stdin and a stdout the test can wait on.
func runAsync(t *testing.T, home string, args ...string) (out *notifyBuffer, cancel context.CancelFunc, done <-chan result) {
	t.Helper()
	return runAsyncIn(t, home, strings.NewReader(""), args...)
}

// runAsyncIn is runAsync with stdin.
func runAsyncIn(t *testing.T, home string, stdin io.Reader, args ...string) (out *notifyBuffer, cancel context.CancelFunc, done <-chan result) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out = newNotifyBuffer()
	ch := make(chan result, 1)
	go func() {
		var errb strings.Builder
		code := runIO(ctx, append([]string{"--home", home}, args...), stdin, out, &errb)
		s, _ := out.snapshot()
		ch <- result{code, s, errb.String()}
	}()
	t.Cleanup(cancel)
	return out, cancel, ch
}

// waitOutput waits until out holds at least n lines.
func waitOutput(t *testing.T, out *notifyBuffer, n int, done <-chan result) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s, changed := out.snapshot()
		if strings.Count(s, "\n") >= n {
			return
		}
		select {
		case <-changed:
		case r := <-done:
			t.Fatalf("command ended (exit %d, stderr %q) before %d lines: %q", r.code, r.stderr, n, r.stdout)
		case <-deadline:
			t.Fatalf("no %d lines within 10s: %q", n, s)
		}
	}
}

// waitDone waits for the command's result.
func waitDone(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not end within 10s of its interruption")
		return result{}
	}
}

// TestStreamInterrupt: without --count, a stream runs until the context
// ends (what SIGINT does), and that is a success.
func TestStreamInterrupt(t *testing.T) {
	home := startFake(t, &fakeBackend{})
	for _, args := range [][]string{{"subscribe", "weather", "--json"}, {"events", "--json"}} {
		t.Run(args[0], func(t *testing.T) {
			out, cancel, done := runAsync(t, home, args...)
			waitOutput(t, out, 3, done) // the fake now blocks
			cancel()
			r := waitDone(t, done)
			if r.code != 0 || r.stderr != "" || strings.Count(r.stdout, "\n") != 3 {
				t.Errorf("exit %d stderr %q stdout %q, want exit 0 and the 3 items", r.code, r.stderr, r.stdout)
			}
		})
	}
}

// TestStreamSIGINT delivers a real SIGINT to the test process while a
// stream runs: the command catches it and exits 0.
func TestStreamSIGINT(t *testing.T) {
	home := startFake(t, &fakeBackend{})
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out, _, done := runAsync(t, home, "events")
			waitOutput(t, out, 3, done) // the signal handler is installed before the stream opens
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			r := waitDone(t, done)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("after %v: exit %d stderr %q", sig, r.code, r.stderr)
			}
		})
	}
}
