package main

import (
	"strings"
	"testing"

	"github.com/pilot-agents/pilot/node/localapi"
)

const someAddr = "3f2a.91c0.7d14"

func TestInvalidAddressNeedsNoDaemon(t *testing.T) {
	home := shortHome(t) // no daemon here: validation must come first
	for _, args := range [][]string{
		{"resolve", "zzzz", "--json"},
		{"resolve", "3f2a.91c0.7d1g", "--json"},
		{"--json", "ping", "3f2a.91c0-7d14"},
		{"unpin", "nope", "--json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			env := wantError(t, cli(t, home, args...), localapi.CodeInvalidArgument, exitUsage)
			if !strings.Contains(*env.Message, "invalid pilot address") {
				t.Errorf("message %q does not say what is wrong", *env.Message)
			}
		})
	}
}

func TestNotRunning(t *testing.T) {
	home := shortHome(t)
	for _, args := range [][]string{
		{"id"}, {"status"}, {"peers"}, {"resolve", someAddr}, {"ping", someAddr},
	} {
		t.Run(args[0], func(t *testing.T) {
			env := wantError(t, cli(t, home, append(args, "--json")...), localapi.CodeNotRunning, exitNotRunning)
			if !strings.Contains(*env.Hint, "pilot up") {
				t.Errorf("hint %q does not mention `pilot up`", *env.Hint)
			}
			if !strings.Contains(*env.Message, home) {
				t.Errorf("message %q does not name the socket under %s", *env.Message, home)
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		r := cli(t, home, "status")
		if r.code != exitNotRunning || r.stdout != "" {
			t.Fatalf("exit %d stdout %q, want %d and nothing", r.code, r.stdout, exitNotRunning)
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "error: no pilot daemon is running at ") ||
			!strings.HasPrefix(lines[1], "hint: ") || !strings.Contains(lines[1], "pilot up") {
			t.Errorf("stderr = %q, want error: and hint: lines", r.stderr)
		}
	})
}

func TestUsageErrors(t *testing.T) {
	home := shortHome(t)
	cases := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"status", "--bogus", "--json"}, "unknown flag: --bogus"},
		{[]string{"--json", "--bogus", "status"}, "unknown flag: --bogus"},
		{[]string{"--json=true", "status", "-x"}, "unknown shorthand flag: 'x'"},
		{[]string{"status", "extra", "--json"}, "pilot status takes no arguments"},
		{[]string{"resolve", "--json"}, "pilot resolve takes 1 argument (<addr>), got 0"},
		{[]string{"ping", someAddr, someAddr, "--json"}, "pilot ping takes 1 argument (<addr>), got 2"},
		{[]string{"frob", "--json"}, `unknown command "frob"`},
		{[]string{"stauts", "--json"}, "did you mean status?"},
		{[]string{"--json"}, "no command given"},
		{[]string{"ping", someAddr, "--count", "0", "--json"}, "--count must be between 1 and 1000, got 0"},
		{[]string{"ping", someAddr, "--count", "1001", "--json"}, "--count must be between 1 and 1000, got 1001"},
		{[]string{"ping", someAddr, "--count", "many", "--json"}, `invalid argument "many" for "--count"`},
		{[]string{"ping", someAddr, "--timeout", "-1s", "--json"}, "--timeout must not be negative"},
		{[]string{"resolve", someAddr, "--timeout", "soon", "--json"}, `invalid argument "soon" for "--timeout"`},
		{[]string{"up", "--bootstrap", "/ip4/192.0.2.1/tcp/4410", "--json"}, "want a multiaddr ending in /p2p/<peer-id>"},
		{[]string{"up", "--listen", "tcp://127.0.0.1:4410", "--json"}, "is not a multiaddr"},
		{[]string{"up", "extra", "--json"}, "pilot up takes no arguments"},
		{[]string{"context", "--json", "--count", "3"}, "unknown flag: --count"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			env := wantError(t, cli(t, home, tc.args...), localapi.CodeInvalidArgument, exitUsage)
			if !strings.Contains(*env.Message, tc.want) {
				t.Errorf("message %q does not contain %q", *env.Message, tc.want)
			}
		})
	}
	t.Run("empty home", func(t *testing.T) {
		var out, errb strings.Builder
		code := run([]string{"--home", "", "id", "--json"}, &out, &errb)
		wantError(t, result{code, out.String(), errb.String()}, localapi.CodeInvalidArgument, exitUsage)
	})
	t.Run("text", func(t *testing.T) {
		r := cli(t, home, "status", "--bogus")
		if r.code != exitUsage || r.stdout != "" {
			t.Fatalf("exit %d stdout %q, want %d and nothing", r.code, r.stdout, exitUsage)
		}
		if !strings.HasPrefix(r.stderr, "error: unknown flag: --bogus\nhint: see `pilot status --help`") {
			t.Errorf("stderr = %q", r.stderr)
		}
	})
}

func TestJSONRequested(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"status"}, false},
		{[]string{"status", "--json"}, true},
		{[]string{"--json", "status"}, true},
		{[]string{"--json=true", "status"}, true},
		{[]string{"--json=1"}, true},
		{[]string{"--json", "--json=false"}, false},
		{[]string{"--json=maybe"}, false},
		{[]string{"--", "--json"}, false},
		{[]string{"--jsonx"}, false},
	} {
		if got := jsonRequested(tc.args); got != tc.want {
			t.Errorf("jsonRequested(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	want := map[string]int{
		localapi.CodeInvalidArgument: 2, localapi.CodeNotRunning: 3,
		localapi.CodeNotFound: 1, localapi.CodeAmbiguous: 1, localapi.CodeConnectionFailed: 1,
		localapi.CodeTimeout: 1, localapi.CodeTrustRequired: 1, localapi.CodeInternal: 1,
		"some_future_code": 1,
	}
	for code, exit := range want {
		if got := exitCode(code); got != exit {
			t.Errorf("exitCode(%q) = %d, want %d", code, got, exit)
		}
	}
	if len(errorCodes) != len(want)-1 {
		t.Errorf("errorCodes lists %d codes, want the %d of DESIGN", len(errorCodes), len(want)-1)
	}
}

func TestHelp(t *testing.T) {
	home := shortHome(t)
	t.Run("text", func(t *testing.T) {
		r := cli(t, home)
		if r.code != 0 || !strings.Contains(r.stdout, "Available Commands:") || r.stderr != "" {
			t.Errorf("pilot without a command: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
		for _, hidden := range []string{"completion", "__complete"} {
			if strings.Contains(r.stdout, hidden) {
				t.Errorf("help lists %s", hidden)
			}
		}
	})
	t.Run("command json", func(t *testing.T) {
		var info commandInfo
		wantOK(t, cli(t, home, "ping", "--help", "--json"), &info)
		if info.Name != "pilot ping" || len(info.Args) != 1 || len(info.Output) == 0 {
			t.Errorf("ping --help --json = %+v", info)
		}
	})
	t.Run("root json", func(t *testing.T) {
		var c catalogue
		wantOK(t, cli(t, home, "--help", "--json"), &c)
		if c.Name != "pilot" || len(c.Commands) == 0 {
			t.Errorf("--help --json = %+v", c)
		}
	})
	t.Run("completion disabled", func(t *testing.T) {
		wantError(t, cli(t, home, "completion", "bash", "--json"), localapi.CodeInvalidArgument, exitUsage)
	})
}
