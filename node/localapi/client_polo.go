package localapi

import (
	"context"
	"net/http"
	"net/url"
)

// TaskSubmit calls POST /v1/tasks.
func (c *Client) TaskSubmit(ctx context.Context, req TaskSubmitRequest) (TaskInfo, error) {
	return call[TaskInfo](ctx, c, http.MethodPost, "/v1/tasks", req)
}

// TaskList calls GET /v1/tasks.
func (c *Client) TaskList(ctx context.Context) (TaskList, error) {
	return call[TaskList](ctx, c, http.MethodGet, "/v1/tasks", nil)
}

// TaskGet calls GET /v1/tasks/{id}.
func (c *Client) TaskGet(ctx context.Context, id string) (TaskInfo, error) {
	return call[TaskInfo](ctx, c, http.MethodGet, "/v1/tasks/"+url.PathEscape(id), nil)
}

// TaskAction calls POST /v1/tasks/action.
func (c *Client) TaskAction(ctx context.Context, req TaskActionRequest) (TaskInfo, error) {
	return call[TaskInfo](ctx, c, http.MethodPost, "/v1/tasks/action", req)
}

// Polo calls GET /v1/polo/{addr} ("" = the node itself).
func (c *Client) Polo(ctx context.Context, address string) (PoloInfo, error) {
	path := "/v1/polo"
	if address != "" {
		path += "/" + url.PathEscape(address)
	}
	return call[PoloInfo](ctx, c, http.MethodGet, path, nil)
}

// PoloStats calls GET /v1/polo-stats.
func (c *Client) PoloStats(ctx context.Context) (PoloStats, error) {
	return call[PoloStats](ctx, c, http.MethodGet, "/v1/polo-stats", nil)
}
