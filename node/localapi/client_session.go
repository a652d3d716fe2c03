package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// Echo calls POST /v1/echo.
func (c *Client) Echo(ctx context.Context, req EchoRequest) (EchoResult, error) {
	return call[EchoResult](ctx, c, http.MethodPost, "/v1/echo", req)
}

// Send calls POST /v1/send.
func (c *Client) Send(ctx context.Context, req SendRequest) (SendResult, error) {
	return call[SendResult](ctx, c, http.MethodPost, "/v1/send", req)
}

// Inbox calls GET /v1/inbox.
func (c *Client) Inbox(ctx context.Context) (InboxList, error) {
	return call[InboxList](ctx, c, http.MethodGet, "/v1/inbox", nil)
}

// InboxGet calls GET /v1/inbox/{id}.
func (c *Client) InboxGet(ctx context.Context, id string) (InboxMessage, error) {
	return call[InboxMessage](ctx, c, http.MethodGet, "/v1/inbox/"+url.PathEscape(id), nil)
}

// InboxDelete calls DELETE /v1/inbox/{id}.
func (c *Client) InboxDelete(ctx context.Context, id string) (Deleted, error) {
	return call[Deleted](ctx, c, http.MethodDelete, "/v1/inbox/"+url.PathEscape(id), nil)
}

// Publish calls POST /v1/publish.
func (c *Client) Publish(ctx context.Context, req PublishRequest) (Published, error) {
	return call[Published](ctx, c, http.MethodPost, "/v1/publish", req)
}

// Trust calls POST /v1/trust.
func (c *Client) Trust(ctx context.Context, req TrustRequest) (TrustRecord, error) {
	return call[TrustRecord](ctx, c, http.MethodPost, "/v1/trust", req)
}

// TrustList calls GET /v1/trust.
func (c *Client) TrustList(ctx context.Context, pendingOnly bool) (TrustList, error) {
	var v TrustList
	path := "/v1/trust"
	if pendingOnly {
		path += "?pending=1"
	}
	return v, c.do(ctx, http.MethodGet, path, nil, &v)
}

// SetPortPolicy calls POST /v1/ports.
func (c *Client) SetPortPolicy(ctx context.Context, req PortPolicyRequest) (PortInfo, error) {
	return call[PortInfo](ctx, c, http.MethodPost, "/v1/ports", req)
}

// Ports calls GET /v1/ports.
func (c *Client) Ports(ctx context.Context) (PortList, error) {
	return call[PortList](ctx, c, http.MethodGet, "/v1/ports", nil)
}

// Expose calls POST /v1/tunnels/expose.
func (c *Client) Expose(ctx context.Context, req ExposeRequest) (Tunnel, error) {
	return call[Tunnel](ctx, c, http.MethodPost, "/v1/tunnels/expose", req)
}

// Forward calls POST /v1/tunnels/forward.
func (c *Client) Forward(ctx context.Context, req ForwardRequest) (Tunnel, error) {
	return call[Tunnel](ctx, c, http.MethodPost, "/v1/tunnels/forward", req)
}

// Tunnels calls GET /v1/tunnels.
func (c *Client) Tunnels(ctx context.Context) (TunnelList, error) {
	return call[TunnelList](ctx, c, http.MethodGet, "/v1/tunnels", nil)
}

// CloseTunnel calls DELETE /v1/tunnels/{id}.
func (c *Client) CloseTunnel(ctx context.Context, id string) (Tunnel, error) {
	return call[Tunnel](ctx, c, http.MethodDelete, "/v1/tunnels/"+url.PathEscape(id), nil)
}

// SetProfile calls POST /v1/profile.
func (c *Client) SetProfile(ctx context.Context, req ProfileRequest) (Profile, error) {
	return call[Profile](ctx, c, http.MethodPost, "/v1/profile", req)
}

// Find calls POST /v1/find.
func (c *Client) Find(ctx context.Context, req FindRequest) (FindResult, error) {
	return call[FindResult](ctx, c, http.MethodPost, "/v1/find", req)
}

// Subscribe streams a topic's messages to emit until ctx ends, emit fails,
// or count messages arrived (count 0: no limit).
func (c *Client) Subscribe(ctx context.Context, topic string, count int, emit func(TopicEvent) error) error {
	path := "/v1/subscribe/" + url.PathEscape(topic) + "?count=" + strconv.Itoa(count)
	return stream(ctx, c, path, emit)
}

// Events streams the daemon's local events to emit until ctx ends or emit
// fails.
func (c *Client) Events(ctx context.Context, emit func(LocalEvent) error) error {
	return stream(ctx, c, "/v1/events", emit)
}

func stream[T any](ctx context.Context, c *Client, path string, emit func(T) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://pilot"+path, nil)
	if err != nil {
		return AsError(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(http.MethodGet, path, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var env Envelope
		if err := dec.Decode(&env); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if ctx.Err() != nil {
				return AsError(ctx.Err())
			}
			return Errorf(CodeInternal, "the daemon may have stopped", "stream %s: %v", path, err)
		}
		if env.Status != "ok" {
			return &Error{Code: env.Code, Message: env.Message, Hint: env.Hint}
		}
		var v T
		if err := json.Unmarshal(env.Data, &v); err != nil {
			return Errorf(CodeInternal, "the CLI and the daemon may be different versions", "stream %s: bad data: %v", path, err)
		}
		if err := emit(v); err != nil {
			return err
		}
	}
}

// Connect opens a raw byte stream to address:port through the daemon
// (`pilot connect`). The returned conn supports CloseWrite.
func (c *Client) Connect(ctx context.Context, address string, port uint16) (net.Conn, error) {
	return c.upgrade(ctx, "/v1/connect", dialRequest{Address: address, Port: port})
}

// Listen opens port on the daemon and returns the first inbound stream
// (`pilot listen`).
func (c *Client) Listen(ctx context.Context, port uint16) (net.Conn, error) {
	return c.upgrade(ctx, "/v1/listen", acceptRequest{Port: port})
}

func (c *Client) upgrade(ctx context.Context, path string, body any) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return nil, c.transportError(http.MethodPost, path, err)
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://pilot"+path, bytes.NewReader(b))
	if err != nil {
		conn.Close()
		return nil, AsError(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", upgradeHeader)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, AsError(fmt.Errorf("local API %s: %w", path, err))
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, AsError(ctx.Err())
		}
		return nil, AsError(fmt.Errorf("local API %s: %w", path, err))
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if !stop() {
			conn.Close()
			return nil, AsError(ctx.Err())
		}
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	defer conn.Close()
	var env Envelope
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env); err != nil || env.Status == "ok" {
		return nil, Errorf(CodeInternal, "the CLI and the daemon may be different versions", "local API %s: unexpected HTTP %d", path, resp.StatusCode)
	}
	return nil, &Error{Code: env.Code, Message: env.Message, Hint: env.Hint}
}
