package localapi

import (
	"context"
	"net/http"
)

// Doctor calls GET /v1/doctor.
func (c *Client) Doctor(ctx context.Context) (Doctor, error) {
	return call[Doctor](ctx, c, http.MethodGet, "/v1/doctor", nil)
}
