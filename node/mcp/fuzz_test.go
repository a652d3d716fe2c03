package mcp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pilot-agents/pilot/node/localapi"
)

// FuzzToolCall sends arbitrary JSON arguments to every tool through the
// SDK's client, with no daemon behind the server: each call must come back
// as a tool result, never a protocol error or a crash, and fail with
// invalid_argument (the input was refused before anything was asked) or
// not_running (it was valid, and the daemon was asked).
func FuzzToolCall(f *testing.F) {
	dir, err := os.MkdirTemp("", "pmcpf")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	d := localapi.NewClient(filepath.Join(dir, "pilot.sock"))
	f.Cleanup(d.Close)
	ctx := context.Background()
	ct, st := sdk.NewInMemoryTransports()
	ss, err := NewServer(d, Options{Version: "fuzz"}).Connect(ctx, st, nil)
	if err != nil {
		f.Fatal(err)
	}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "fuzz", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		_ = cs.Close()
		_ = ss.Wait()
	})
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		f.Fatal(err)
	}
	var names []string
	for _, t := range list.Tools {
		names = append(names, t.Name)
	}
	slices.Sort(names)

	for _, seed := range []string{`{}`, `null`, `{"to":"3f2a.91c0.7d14","text":"hi"}`, `{"to":"alice","json":{"a":1}}`,
		`{"address":"3f2a.91c0.7d14"}`, `{"tag":"search"}`, `{"name":"alice"}`, `{"limit":5,"max_body_bytes":10}`,
		`{"to":"3f2a.91c0.7d14","type":"summarize","input":{"x":1},"wait":true,"timeout_seconds":5}`,
		`{"topic":"news","text":"x"}`, `{"id":"18ebf51c04907c88be5f336c"}`, `{"to":"3f2a.91c0.7d14","binary_base64":"AAEC"}`,
		`{"to":1}`, `[]`, `"x"`, `{"to":"3f2a.91c0.7d14","text":"` + string(make([]byte, 40)) + `"}`} {
		for i := range names {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, tool uint8, args []byte) {
		if !json.Valid(args) {
			return // the client would refuse to send it; the transport is not under test
		}
		name := names[int(tool)%len(names)]
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
		if err != nil {
			t.Fatalf("%s(%s): protocol error: %v", name, args, err)
		}
		if !res.IsError {
			t.Fatalf("%s(%s) succeeded with no daemon", name, args)
		}
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		var e ErrorBody
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s(%s): error body %s: %v", name, args, b, err)
		}
		if e.Code != localapi.CodeInvalidArgument && e.Code != localapi.CodeNotRunning || e.Hint == "" {
			t.Fatalf("%s(%s): %+v, want invalid_argument or not_running with a hint", name, args, e)
		}
	})
}
