package localapi

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
	"syscall"
)

// Client talks to a daemon's local API.
type Client struct {
	path string
	hc   *http.Client
}

// NewClient returns a client for the socket at path. It does not connect
// until the first call.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableCompression: true,
	}
	return &Client{path: path, hc: &http.Client{Transport: tr}}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Identity calls GET /v1/id.
func (c *Client) Identity(ctx context.Context) (Identity, error) {
	return call[Identity](ctx, c, http.MethodGet, "/v1/id", nil)
}

// Status calls GET /v1/status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	return call[Status](ctx, c, http.MethodGet, "/v1/status", nil)
}

// Resolve calls GET /v1/resolve/{addr}.
func (c *Client) Resolve(ctx context.Context, address string) (Resolved, error) {
	return call[Resolved](ctx, c, http.MethodGet, "/v1/resolve/"+url.PathEscape(address), nil)
}

// Ping calls POST /v1/ping.
func (c *Client) Ping(ctx context.Context, req PingRequest) (PingResult, error) {
	return call[PingResult](ctx, c, http.MethodPost, "/v1/ping", req)
}

// Peers calls GET /v1/peers.
func (c *Client) Peers(ctx context.Context) (Peers, error) {
	return call[Peers](ctx, c, http.MethodGet, "/v1/peers", nil)
}

// Unpin calls DELETE /v1/pins/{addr}.
func (c *Client) Unpin(ctx context.Context, address string) (Unpinned, error) {
	return call[Unpinned](ctx, c, http.MethodDelete, "/v1/pins/"+url.PathEscape(address), nil)
}

// call sends one request and decodes its data as T.
func call[T any](ctx context.Context, c *Client, method, path string, body any) (T, error) {
	var v T
	return v, c.do(ctx, method, path, body, &v)
}

// do sends one request and decodes the envelope; errors are always *Error.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return AsError(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://pilot"+path, rd)
	if err != nil {
		return AsError(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(method, path, err)
	}
	defer resp.Body.Close()
	var env Envelope
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&env); err != nil {
		return Errorf(CodeInternal, "the CLI and the daemon may be different versions", "local API %s %s: undecodable response (HTTP %d): %v", method, path, resp.StatusCode, err)
	}
	if env.Status != "ok" {
		if env.Code == "" {
			env.Code = CodeInternal
		}
		return &Error{Code: env.Code, Message: env.Message, Hint: env.Hint}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return Errorf(CodeInternal, "the CLI and the daemon may be different versions", "local API %s %s: bad data: %v", method, path, err)
	}
	return nil
}

// transportError maps a failure to reach the daemon to an *Error.
func (c *Client) transportError(method, path string, err error) *Error {
	if isNotRunning(err) {
		return Errorf(CodeNotRunning, "start the daemon with `pilot up` (or pass the right --home)", "no pilot daemon is running at %s", c.path)
	}
	return AsError(fmt.Errorf("local API %s %s: %w", method, path, err))
}

func isNotRunning(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOENT) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTSOCK)
}
