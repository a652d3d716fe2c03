package client

import "context"

// SubmitTask submits a task to a worker agent (port 1003, POST
// /v1/tasks). With req.Wait it answers once the task has ended.
func (c *Client) SubmitTask(ctx context.Context, req TaskSubmitRequest) (TaskInfo, error) {
	return c.api.TaskSubmit(ctx, req)
}

// Tasks lists the tasks this node submitted or works on (GET /v1/tasks).
func (c *Client) Tasks(ctx context.Context) (TaskList, error) { return c.api.TaskList(ctx) }

// Task returns one task (GET /v1/tasks/{id}).
func (c *Client) Task(ctx context.Context, id string) (TaskInfo, error) {
	return c.api.TaskGet(ctx, id)
}

// TaskAction accepts, declines, cancels or completes a task (POST
// /v1/tasks/action).
func (c *Client) TaskAction(ctx context.Context, req TaskActionRequest) (TaskInfo, error) {
	return c.api.TaskAction(ctx, req)
}

// Polo returns the Polo score of the agent at address in this node's view;
// address "" is the node itself (GET /v1/polo/{addr}).
func (c *Client) Polo(ctx context.Context, address string) (PoloInfo, error) {
	return c.api.Polo(ctx, address)
}

// PoloStats counts the attestations the node holds and those it refused,
// by reason (GET /v1/polo-stats).
func (c *Client) PoloStats(ctx context.Context) (PoloStats, error) { return c.api.PoloStats(ctx) }
