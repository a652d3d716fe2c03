package main

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/mcp"
)

func TestMCPHelpJSON(t *testing.T) {
	home := shortHome(t)
	var info commandInfo
	wantOK(t, cli(t, home, "mcp", "--help", "--json"), &info)
	require.Equal(t, "pilot mcp", info.Name)
	require.True(t, info.LongRunning)
	require.True(t, info.NeedsDaemon)
	require.NotEmpty(t, info.Examples)

	// Without --help, --json has no meaning: stdout is the MCP stream.
	wantError(t, cli(t, home, "mcp", "--json"), localapi.CodeInvalidArgument, exitUsage)
}

// TestMCPOverStdio runs `pilot mcp` in-process on pipes and drives it with
// the SDK's client: stdout carries MCP alone (the client parses all of
// it), the log goes to stderr, and the command ends when stdin closes.
func TestMCPOverStdio(t *testing.T) {
	home := shortHome(t) // no daemon runs here
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := runIO(t.Context(), []string{"--home", home, "mcp"}, inR, outW, &stderr)
		outW.Close()
		done <- code
	}()

	cs, err := sdk.NewClient(&sdk.Implementation{Name: "cli-test", Version: "1"}, nil).
		Connect(t.Context(), &sdk.IOTransport{Reader: outR, Writer: inW}, nil)
	require.NoError(t, err)
	require.Equal(t, "pilot", cs.InitializeResult().ServerInfo.Name)
	tools, err := cs.ListTools(t.Context(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"pilot_status", "pilot_send", "pilot_inbox", "pilot_trust_request", "pilot_task_submit", "pilot_polo"} {
		require.True(t, slices.Contains(names, want), "%s missing from %v", want, names)
	}

	res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "pilot_status", Arguments: map[string]any{}})
	require.NoError(t, err)
	require.True(t, res.IsError)
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var e mcp.ErrorBody
	require.NoError(t, json.Unmarshal(b, &e))
	require.Equal(t, localapi.CodeNotRunning, e.Code)
	require.Contains(t, e.Hint, "pilot up")

	require.NoError(t, cs.Close()) // closes the command's stdin
	require.Equal(t, exitOK, <-done)
	require.Contains(t, stderr.String(), "no pilot daemon is running")
}
