package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/client"
	"github.com/pilot-agents/pilot/node/localapi"
)

// A2A over Pilot (docs/a2a.md): `pilot a2a serve` publishes an agent's A2A
// Agent Card on a Pilot port and exposes the agent's HTTP endpoint through
// a tunnel; `pilot a2a get` fetches another agent's card over Pilot.

const (
	// a2aCardPort is the default Pilot port of the card: HTTP's port.
	a2aCardPort uint16 = 80
	// a2aAgentPort is the default Pilot port of the agent's endpoint.
	a2aAgentPort uint16 = 8080
	// a2aCardPath is where A2A clients look for the card.
	a2aCardPath = "/.well-known/agent-card.json"
	// a2aLegacyCardPath is the card's path before A2A 0.3, served too.
	a2aLegacyCardPath = "/.well-known/agent.json"
	// maxCardSize bounds a card, read from disk or from the network.
	maxCardSize = 256 << 10
	// a2aExtensionKey is the card field that carries the Pilot details.
	a2aExtensionKey = "pilot"
)

// a2aPilot is what `pilot a2a serve` adds to the card under "pilot".
type a2aPilot struct {
	Address     string `json:"address"`      // the agent's Pilot address
	Port        uint16 `json:"port"`         // the Pilot port of its A2A endpoint
	CardPort    uint16 `json:"card_port"`    // the Pilot port serving the card
	Path        string `json:"path"`         // the endpoint's path on that port
	OriginalURL string `json:"original_url"` // the card's "url" before the rewrite ("" if none)
}

// a2aCardView documents the fields of a card this command reads or writes;
// a card keeps every other field it has.
type a2aCardView struct {
	Name  string   `json:"name"`
	URL   string   `json:"url"`
	Pilot a2aPilot `json:"pilot"`
}

// a2aReady is the ready message of `pilot a2a serve`.
type a2aReady struct {
	Address   string          `json:"address"`
	CardPort  uint16          `json:"card_port"`
	AgentPort uint16          `json:"agent_port"`
	URL       string          `json:"url"`       // the card's new "url"
	To        string          `json:"to"`        // the agent's local HTTP endpoint
	TunnelID  string          `json:"tunnel_id"` // the expose tunnel, closed on exit
	Public    bool            `json:"public"`    // both ports open to every agent
	Card      json.RawMessage `json:"card"`      // the card as served
}

// a2aCard is a parsed card: its fields in the order they came, values kept
// byte for byte.
type a2aCard struct {
	keys   []string
	fields map[string]json.RawMessage
}

// parseCard validates a card: at most maxCardSize bytes of UTF-8, one JSON
// object and nothing after it, no duplicate field, a non-empty string
// "name", and "url" a string if present.
func parseCard(b []byte) (*a2aCard, error) {
	if len(b) > maxCardSize {
		return nil, fmt.Errorf("the card is %d bytes, over the %d limit", len(b), maxCardSize)
	}
	if !utf8.Valid(b) {
		return nil, errors.New("the card is not UTF-8 text")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("the card is not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("the card must be a JSON object")
	}
	c := &a2aCard{fields: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("the card is not JSON: %v", err)
		}
		key := tok.(string) // object keys are strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the card is not JSON: field %q: %v", key, err)
		}
		if _, dup := c.fields[key]; dup {
			return nil, fmt.Errorf("the card has field %q twice", key)
		}
		c.keys = append(c.keys, key)
		c.fields[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("the card is not JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("the card has data after its JSON object")
	}
	var name string
	if err := json.Unmarshal(c.fields["name"], &name); err != nil || name == "" {
		return nil, errors.New(`the card needs "name", a non-empty string`)
	}
	if raw, ok := c.fields["url"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New(`the card's "url" must be a string`)
		}
	}
	return c, nil
}

// str returns a string field, "" if absent.
func (c *a2aCard) str(key string) string {
	var s string
	_ = json.Unmarshal(c.fields[key], &s)
	return s
}

// set sets a field, appending it if new.
func (c *a2aCard) set(key string, v any) {
	b, _ := json.Marshal(v)
	if _, ok := c.fields[key]; !ok {
		c.keys = append(c.keys, key)
	}
	c.fields[key] = b
}

// MarshalJSON writes the fields in order.
func (c *a2aCard) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range c.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(c.fields[k])
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Compact(&out, buf.Bytes()); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// pilotURL is the URL of an A2A endpoint reached over Pilot.
func pilotURL(address string, port uint16, path string) string {
	return "pilot://" + address + ":" + strconv.Itoa(int(port)) + path
}

// rewriteCard points the card at the agent's Pilot address: "url" becomes
// its Pilot URL (keeping the original URL's path and query), and "pilot"
// names the address and ports.
func rewriteCard(c *a2aCard, address string, agentPort, cardPort uint16) string {
	orig := c.str("url")
	path := "/"
	if u, err := url.Parse(orig); err == nil && orig != "" {
		if u.EscapedPath() != "" {
			path = u.EscapedPath()
		}
		if u.RawQuery != "" {
			path += "?" + u.RawQuery
		}
	}
	pu := pilotURL(address, agentPort, path)
	c.set("url", pu)
	c.set(a2aExtensionKey, a2aPilot{Address: address, Port: agentPort, CardPort: cardPort, Path: path, OriginalURL: orig})
	return pu
}

// cardHandler serves the card at the well-known paths, GET and HEAD only.
func cardHandler(card []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != a2aCardPath && r.URL.Path != a2aLegacyCardPath {
			http.Error(w, "not found: the agent card is at "+a2aCardPath, http.StatusNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(card)))
		_, _ = w.Write(card)
	})
}

func newA2ACmd(a *app) *cobra.Command {
	return newGroupCmd(a, "a2a", "Serve and fetch A2A agent cards over Pilot",
		"  pilot a2a serve --card card.json --to 127.0.0.1:9999\n  pilot a2a get 3f2a.91c0.7d14",
		newA2AServeCmd(a), newA2AGetCmd(a))
}

func newA2AServeCmd(a *app) *cobra.Command {
	var cardFile, to string
	var cardPort, agentPort uint16
	var public bool
	cmd := &cobra.Command{
		Use:   "serve --card FILE --to HOST:PORT",
		Short: "Publish an A2A agent over Pilot: its card on a Pilot port, its endpoint through a tunnel",
		Long: `Read the agent's A2A Agent Card (JSON, at most 256 KiB, an object with a
"name"; other fields are kept as they are), point it at this node: "url"
becomes pilot://<address>:<agent-port><path> (the path of the card's own
url) and a "pilot" field names the address, the ports and the original url.
Then serve the card at ` + a2aCardPath + ` (and ` + a2aLegacyCardPath + `) over
HTTP on Pilot port --port (default 80), and expose the agent's HTTP endpoint
--to on Pilot port --agent-port (default 8080), like ` + "`pilot expose`" + `.

Both ports follow the port policy: trusted agents only, unless --public
opens them to every agent. Runs until SIGINT/SIGTERM (exit 0), then closes
the tunnel and the card port, and makes the ports private again if --public
made them public. --json prints one ready envelope when everything is up.

Another agent fetches the card with ` + "`pilot a2a get <address>`" + ` and reaches the
endpoint with ` + "`pilot forward 127.0.0.1:9000 --to <address>:8080`" + `.`,
		Example: "  pilot a2a serve --card card.json --to 127.0.0.1:9999\n" +
			"  pilot a2a serve --card card.json --to 127.0.0.1:9999 --public --json\n" +
			"  pilot a2a serve --card card.json --to localhost:3000 --port 8000 --agent-port 8001",
		Annotations: map[string]string{annArgs: "", annOutput: fieldList(a2aReady{}), annDaemon: "required", annLongRunning: "true"},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("card") {
				return usageError(cmd, "--card FILE is required: the agent's A2A Agent Card (JSON)")
			}
			if !cmd.Flags().Changed("to") {
				return usageError(cmd, "--to HOST:PORT is required: the agent's local HTTP endpoint")
			}
			target, err := parseHostPort("--to", to, false)
			if err != nil {
				return err
			}
			if cardPort == 0 || agentPort == 0 {
				return usageError(cmd, "--port and --agent-port are 1 to 65535")
			}
			if cardPort == agentPort {
				return usageError(cmd, "--port and --agent-port must differ: the card and the endpoint are two Pilot ports")
			}
			card, err := readCard(cardFile)
			if err != nil {
				return err
			}
			return a.serveA2A(cmd.Context(), card, target, cardPort, agentPort, public)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&cardFile, "card", "", "the agent's A2A Agent Card, a JSON file (required)")
	f.StringVar(&to, "to", "", "the agent's local HTTP endpoint, HOST:PORT (required)")
	f.Uint16Var(&cardPort, "port", a2aCardPort, "Pilot port serving the card")
	f.Uint16Var(&agentPort, "agent-port", a2aAgentPort, "Pilot port exposing the agent's endpoint")
	f.BoolVar(&public, "public", false, "open both ports to every agent, not only trusted ones")
	return cmd
}

// readCard reads and validates the card file.
func readCard(path string) (*a2aCard, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, localapi.Errorf(localapi.CodeInvalidArgument, "--card names the agent card's JSON file", "read the card: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCardSize+1))
	if err != nil {
		return nil, localapi.Errorf(localapi.CodeInvalidArgument, "--card names the agent card's JSON file", "read the card: %v", err)
	}
	c, err := parseCard(b)
	if err != nil {
		return nil, localapi.Errorf(localapi.CodeInvalidArgument, `an A2A Agent Card is a JSON object with at least "name"`, "%s: %v", path, err)
	}
	return c, nil
}

// serveA2A runs `pilot a2a serve` once its arguments are valid.
func (a *app) serveA2A(parent context.Context, card *a2aCard, to string, cardPort, agentPort uint16, public bool) (err error) {
	ctx, stop := signalContext(parent)
	defer stop()
	c := client.New(a.socket())
	defer c.Close()
	setup, cancel := context.WithTimeout(ctx, defaultTimeout)
	defer cancel()

	id, err := c.ID(setup)
	if err != nil {
		return err
	}
	// Cleanup runs with its own deadline: ctx has ended by then.
	var undo []func(context.Context)
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		for _, f := range slices.Backward(undo) {
			f(cctx)
		}
	}()
	if public {
		before, err := c.Ports(setup)
		if err != nil {
			return err
		}
		for _, p := range []uint16{cardPort, agentPort} {
			if slices.ContainsFunc(before.Ports, func(i client.PortInfo) bool { return i.Port == p && i.Public }) {
				continue // public already: leave it so
			}
			if _, err := c.SetPortPublic(setup, p, true); err != nil {
				return err
			}
			undo = append(undo, func(ctx context.Context) { _, _ = c.SetPortPublic(ctx, p, false) })
		}
	}
	ln, err := c.Listen(setup, cardPort)
	if err != nil {
		return err
	}
	undo = append(undo, func(context.Context) { ln.Close() })
	tun, err := c.Expose(setup, agentPort, to)
	if err != nil {
		return err
	}
	undo = append(undo, func(ctx context.Context) { _, _ = c.CloseTunnel(ctx, tun.ID) })

	u := rewriteCard(card, id.Address, agentPort, cardPort)
	body, err := card.MarshalJSON()
	if err != nil {
		return localapi.AsError(err)
	}
	srv := &http.Server{Handler: cardHandler(body), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Close()

	ready := a2aReady{Address: id.Address, CardPort: cardPort, AgentPort: agentPort, URL: u, To: to, TunnelID: tun.ID, Public: public, Card: body}
	if err := a.emit(ready, func(w io.Writer) {
		writeKV(w, []kv{{"address", id.Address}, {"card", pilotURL(id.Address, cardPort, a2aCardPath)}, {"url", u},
			{"to", to}, {"tunnel_id", tun.ID}, {"public", public}})
	}); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		return localapi.Errorf(localapi.CodeInternal, "the daemon may have stopped; check it with `pilot status`", "serving the card stopped: %v", err)
	}
}

func newA2AGetCmd(a *app) *cobra.Command {
	var port uint16
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "get <addr|hostname>",
		Short: "Fetch an agent's A2A Agent Card over Pilot",
		Long: `Dial the agent's card port (--port, default 80) over Pilot, GET
` + a2aCardPath + ` and print the card: indented JSON, or with --json the
card itself as the data of the ok-envelope. A card served by ` + "`pilot a2a serve`" + `
has "url" pointing at the agent's Pilot address and a "pilot" field with
its address and ports: reach the endpoint with
` + "`pilot forward 127.0.0.1:9000 --to <address>:<pilot.port>`" + `.

A private card port answers only agents its owner trusts (trust_required).`,
		Example:     "  pilot a2a get 3f2a.91c0.7d14\n  pilot a2a get my-agent --json\n  pilot a2a get 3f2a.91c0.7d14 --port 8000",
		Annotations: daemonAnnotations("target: the agent's pilot address or hostname", a2aCardView{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			target, err := localapi.ParseTarget(args[0])
			if err != nil {
				return err
			}
			if port == 0 {
				return usageError(cmd, "--port is 1 to 65535")
			}
			d, err := effectiveTimeout(cmd, timeout, defaultTimeout)
			if err != nil {
				return err
			}
			card, err := a.getCard(cmd.Context(), target, port, d)
			if err != nil {
				return err
			}
			if a.json() {
				return a.writeOK(json.RawMessage(card))
			}
			var out bytes.Buffer
			_ = json.Indent(&out, card, "", "  ")
			out.WriteByte('\n')
			_, _ = a.stdout.Write(out.Bytes())
			return nil
		}),
	}
	cmd.Flags().Uint16Var(&port, "port", a2aCardPort, "Pilot port serving the card")
	timeoutFlag(cmd, &timeout, "give up after this long (default 30s)")
	return cmd
}

// getCard fetches and validates the card of target over Pilot.
func (a *app) getCard(ctx context.Context, target string, port uint16, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := client.New(a.socket())
	defer c.Close()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.Dial(ctx, target, port)
		},
		DisableKeepAlives:  true,
		DisableCompression: true,
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+target+a2aCardPath, nil)
	if err != nil {
		return nil, localapi.AsError(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		var e *localapi.Error
		if errors.As(err, &e) {
			return nil, e // the daemon's answer: trust_required, not_found...
		}
		if ctx.Err() != nil {
			return nil, localapi.Errorf(localapi.CodeTimeout, "raise --timeout, or check connectivity with `pilot ping`", "no card from %s:%d within %s", target, port, timeout)
		}
		return nil, localapi.Errorf(localapi.CodeConnectionFailed, "is `pilot a2a serve` running there, on this --port?", "fetch the card from %s:%d: %v", target, port, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, localapi.Errorf(localapi.CodeNotFound, "is `pilot a2a serve` running there, on this --port?", "%s:%d answered HTTP %d, not a card", target, port, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCardSize+1))
	if err != nil {
		return nil, localapi.Errorf(localapi.CodeConnectionFailed, "retry; the stream broke", "read the card from %s:%d: %v", target, port, err)
	}
	card, err := parseCard(b)
	if err != nil {
		return nil, localapi.Errorf(localapi.CodeConnectionFailed, "the agent serves a malformed card; tell its operator", "%s:%d: %v", target, port, err)
	}
	return card.MarshalJSON()
}
