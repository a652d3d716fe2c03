package client

import "context"

// Doctor asks the daemon to check itself — reachability, relays, DHT,
// clock, store — and returns each check's status, findings and fix (GET
// /v1/doctor). It takes a few seconds (a DHT lookup); what `pilot doctor`
// prints.
func (c *Client) Doctor(ctx context.Context) (Doctor, error) { return c.api.Doctor(ctx) }
