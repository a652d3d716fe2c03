package mcp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/localapi"
)

// requiredTools are the tools docs/mcp.md promises.
var requiredTools = []string{
	"pilot_status", "pilot_resolve", "pilot_find", "pilot_send", "pilot_inbox",
	"pilot_trust_request", "pilot_trust_pending", "pilot_trust_approve",
	"pilot_task_submit", "pilot_task_list", "pilot_polo", "pilot_publish",
}

// mcpClient is an SDK client session connected to a server for one
// daemon, with the tools it listed.
type mcpClient struct {
	t     *testing.T
	cs    *sdk.ClientSession
	tools map[string]*sdk.Tool
}

// connect serves d through NewServer and connects the SDK's client to it
// over in-memory transports.
func connect(t *testing.T, d Daemon) *mcpClient {
	t.Helper()
	ctx := context.Background()
	ct, st := sdk.NewInMemoryTransports()
	ss, err := NewServer(d, Options{Version: "test"}).Connect(ctx, st, nil)
	require.NoError(t, err)
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "pilot-test", Version: "1"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cs.Close()
		_ = ss.Wait()
	})
	res, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	c := &mcpClient{t: t, cs: cs, tools: map[string]*sdk.Tool{}}
	for _, tool := range res.Tools {
		c.tools[tool.Name] = tool
	}
	return c
}

// call calls a tool and checks the result's shape: structured content that
// the tool's output schema admits, and the same JSON as text.
func (c *mcpClient) call(name string, args any) *sdk.CallToolResult {
	c.t.Helper()
	res, err := c.cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	require.NoError(c.t, err, "%s: protocol error", name)
	require.NotNil(c.t, res.StructuredContent, "%s: no structured content", name)
	require.Len(c.t, res.Content, 1, "%s: content", name)
	text, ok := res.Content[0].(*sdk.TextContent)
	require.True(c.t, ok, "%s: content is %T, want text", name, res.Content[0])
	structured, err := json.Marshal(res.StructuredContent)
	require.NoError(c.t, err)
	require.JSONEq(c.t, string(structured), text.Text, "%s: text and structured content differ", name)

	tool := c.tools[name]
	require.NotNil(c.t, tool, "%s was not listed", name)
	var schema jsonschema.Schema
	b, err := json.Marshal(tool.OutputSchema)
	require.NoError(c.t, err)
	require.NoError(c.t, json.Unmarshal(b, &schema))
	resolved, err := schema.Resolve(nil)
	require.NoError(c.t, err)
	var generic any
	require.NoError(c.t, json.Unmarshal(structured, &generic))
	require.NoError(c.t, resolved.Validate(generic), "%s: structured content %s does not fit the output schema", name, structured)
	return res
}

// ok calls a tool that must succeed and decodes its structured output.
func ok[T any](c *mcpClient, name string, args any) T {
	c.t.Helper()
	res := c.call(name, args)
	b, _ := json.Marshal(res.StructuredContent)
	require.False(c.t, res.IsError, "%s failed: %s", name, b)
	var v T
	require.NoError(c.t, json.Unmarshal(b, &v))
	return v
}

// fail calls a tool that must fail and returns its {code, message, hint}.
func (c *mcpClient) fail(name string, args any) ErrorBody {
	c.t.Helper()
	res := c.call(name, args)
	b, _ := json.Marshal(res.StructuredContent)
	require.True(c.t, res.IsError, "%s succeeded: %s", name, b)
	var e ErrorBody
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	require.NoError(c.t, dec.Decode(&e))
	require.NotEmpty(c.t, e.Code)
	require.NotEmpty(c.t, e.Message)
	require.NotEmpty(c.t, e.Hint)
	return e
}

// noDaemon is a client for a socket nobody listens on.
func noDaemon(t *testing.T) *localapi.Client {
	dir, err := os.MkdirTemp("", "pmcp")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := localapi.NewClient(filepath.Join(dir, "pilot.sock"))
	t.Cleanup(c.Close)
	return c
}

func TestToolsAreListedWithSchemas(t *testing.T) {
	c := connect(t, noDaemon(t))
	for _, name := range requiredTools {
		tool := c.tools[name]
		require.NotNil(t, tool, "tool %s missing", name)
		require.NotEmpty(t, tool.Description, name)
		in, ok := tool.InputSchema.(map[string]any)
		require.True(t, ok, "%s input schema is %T", name, tool.InputSchema)
		require.Equal(t, "object", in["type"], name)
		props, _ := in["properties"].(map[string]any)
		for field, p := range props {
			desc, _ := p.(map[string]any)["description"].(string)
			require.NotEmpty(t, desc, "%s.%s has no description", name, field)
		}
		out, ok := tool.OutputSchema.(map[string]any)
		require.True(t, ok, "%s has no output schema", name)
		require.Equal(t, "object", out["type"], name)
	}
	for name, tool := range c.tools {
		require.True(t, strings.HasPrefix(name, "pilot_"), name)
		require.NotEmpty(t, tool.Annotations.Title, name)
	}
	send := c.tools["pilot_send"].InputSchema.(map[string]any)
	require.True(t, slices.Contains(send["required"].([]any), any("to")), "pilot_send requires to")
}

// TestNoDaemon: every tool that needs the daemon says not_running, with
// the CLI's hint.
func TestNoDaemon(t *testing.T) {
	c := connect(t, noDaemon(t))
	for name, args := range map[string]any{
		"pilot_status":        nil,
		"pilot_inbox":         map[string]any{},
		"pilot_trust_pending": map[string]any{},
		"pilot_send":          map[string]any{"to": "3f2a.91c0.7d14", "text": "hello"},
		"pilot_task_list":     map[string]any{},
		"pilot_polo":          map[string]any{},
	} {
		e := c.fail(name, args)
		require.Equal(t, localapi.CodeNotRunning, e.Code, name)
		require.Contains(t, e.Hint, "pilot up", name)
	}
}

// TestInvalidArguments: malformed input fails with invalid_argument before
// the daemon is asked (there is none: it would say not_running).
func TestInvalidArguments(t *testing.T) {
	c := connect(t, noDaemon(t))
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string // in the message
	}{
		{"pilot_send", map[string]any{"to": "3f2a.91c0", "text": "x"}, "invalid pilot address"},
		{"pilot_send", map[string]any{"to": "Not A Host!", "text": "x"}, "neither a pilot address nor a valid hostname"},
		{"pilot_send", map[string]any{"to": "3f2a.91c0.7d14"}, "0 of text, json and binary_base64"},
		{"pilot_send", map[string]any{"to": "3f2a.91c0.7d14", "text": "x", "json": 1}, "2 of text"},
		{"pilot_send", map[string]any{"to": "3f2a.91c0.7d14", "binary_base64": "%%%"}, "binary_base64"},
		{"pilot_send", map[string]any{"to": "3f2a.91c0.7d14", "text": strings.Repeat("a", maxInlineText+1)}, "at most"},
		{"pilot_send", map[string]any{"to": "3f2a.91c0.7d14", "text": "x", "timeout_seconds": 601}, "timeout_seconds"},
		{"pilot_send", map[string]any{"to": "3f2a.91c0.7d14", "text": "x", "extra": true}, "additional properties"},
		{"pilot_send", map[string]any{"to": 12}, "invalid arguments"},
		{"pilot_resolve", map[string]any{"address": "weather-bot"}, "address"},
		{"pilot_find", map[string]any{}, "nothing to find"},
		{"pilot_find", map[string]any{"name": "a", "tag": "b"}, "both"},
		{"pilot_find", map[string]any{"tag": "-bad-"}, "tag"},
		{"pilot_inbox", map[string]any{"limit": 101}, "limit"},
		{"pilot_inbox", map[string]any{"max_body_bytes": -1}, "max_body_bytes"},
		{"pilot_publish", map[string]any{"topic": "Bad Topic", "text": "x"}, "topic"},
		{"pilot_publish", map[string]any{"topic": "news", "text": ""}, "empty"},
		{"pilot_trust_request", map[string]any{"to": "3f2a.91c0.7d14", "message": strings.Repeat("m", 1025)}, "message"},
		{"pilot_trust_approve", map[string]any{}, "from"},
		{"pilot_task_submit", map[string]any{"to": "3f2a.91c0.7d14", "type": "Bad Type"}, "type"},
		{"pilot_task_submit", map[string]any{"to": "3f2a.91c0.7d14", "type": "echo", "timeout_seconds": 604801}, "timeout_seconds"},
		{"pilot_task_result", map[string]any{"id": "../../etc"}, "not a task ID"},
		{"pilot_task_list", map[string]any{"limit": 0.5}, "invalid arguments"},
		{"pilot_polo", map[string]any{"target": "3f2a.zz"}, "target"},
	} {
		e := c.fail(tc.tool, tc.args)
		require.Equal(t, localapi.CodeInvalidArgument, e.Code, "%s %v: %s", tc.tool, tc.args, e.Message)
		require.Contains(t, e.Message, tc.want, "%s %v", tc.tool, tc.args)
	}
}

func TestBoundedBody(t *testing.T) {
	m := localapi.InboxMessage{Text: "aé" + strings.Repeat("b", 10), Body: []byte("0123456789")}
	it := bounded(m, 2) // "a" and the first byte of "é"
	require.True(t, it.Truncated)
	require.Equal(t, "a", it.Text, "cut at a rune boundary")
	require.Equal(t, []byte("01"), it.Body)
	it = bounded(m, 100)
	require.False(t, it.Truncated)
	require.Equal(t, m, it.InboxMessage)
}
