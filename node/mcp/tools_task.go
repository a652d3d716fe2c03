package mcp

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/task"
)

// Limits of the task tools.
const (
	// defaultTaskTimeout is a submitted task's deadline unless given, as
	// in the CLI.
	defaultTaskTimeout = 5 * time.Minute
	// maxTaskTimeoutSec bounds timeout_seconds: the service's limit.
	maxTaskTimeoutSec = int(task.MaxTimeout / time.Second)
	// Task list reads: how many tasks one call returns, and the largest
	// input or result value listed (larger ones are left out; read them
	// with pilot_task_result).
	defaultTaskLimit, maxTaskLimit = 20, 200
	maxListedValue                 = 4 << 10
)

// TaskSubmitInput is the input of pilot_task_submit.
type TaskSubmitInput struct {
	To         string          `json:"to" jsonschema:"the worker's pilot address (3f2a.91c0.7d14) or hostname"`
	Type       string          `json:"type" jsonschema:"the task type the worker handles, like summarise: 1 to 64 characters a-z, 0-9, '.', '_' and '-'"`
	Input      json.RawMessage `json:"input,omitempty" jsonschema:"the task's input: any JSON value, at most 256 KiB (default null)"`
	TimeoutSec int             `json:"timeout_seconds,omitempty" jsonschema:"the task's deadline in seconds from now, 1 to 604800 (default 300); unfinished by then it expires on both sides"`
	Wait       bool            `json:"wait,omitempty" jsonschema:"answer only once the task has ended, with its result (the call may take up to timeout_seconds)"`
}

// TaskIDInput is the input of pilot_task_result.
type TaskIDInput struct {
	ID string `json:"id" jsonschema:"the task ID: 32 lower-case hex digits, as returned by pilot_task_submit or pilot_task_list"`
}

// TaskListInput is the input of pilot_task_list.
type TaskListInput struct {
	Limit int `json:"limit,omitempty" jsonschema:"return at most this many of the most recently updated tasks, 1 to 200 (default 20)"`
}

// TaskListOutput is the result of pilot_task_list.
type TaskListOutput struct {
	Count    int        `json:"count" jsonschema:"tasks this node knows"`
	Returned int        `json:"returned" jsonschema:"tasks in this answer"`
	Tasks    []TaskItem `json:"tasks" jsonschema:"the most recently updated tasks, newest first"`
}

// TaskItem is one task of pilot_task_list: the CLI's task, with large
// values left out.
type TaskItem struct {
	localapi.TaskInfo
	Omitted []string `json:"omitted,omitempty" jsonschema:"values left out of this list because they exceed 4 KiB (input, result); read them with pilot_task_result"`
}

func (t tools) addTaskTools(s *sdk.Server) {
	addTool(s, toolSpec{
		name:  "pilot_task_submit",
		title: "Submit a task to an agent",
		description: "Send a task (a type and a JSON input) to a worker agent. The worker admits it only if it trusts this " +
			"node or this node's Polo score in its view is high enough; then its operator or handler runs it. With wait " +
			"the call returns when the task has ended, with result or error; without, at once: poll with " +
			"pilot_task_result. Finished tasks feed the worker's Polo score.",
	}, t.submit)

	addTool(s, toolSpec{
		name:  "pilot_task_list",
		title: "List tasks",
		description: "List the tasks this node submitted (role requester) and the tasks submitted to it (role worker), " +
			"most recently updated first, with state, type, peer and deadline. Inputs and results over 4 KiB are left " +
			"out; read one task whole with pilot_task_result.",
		readOnly: true, local: true,
	}, t.list)

	addTool(s, toolSpec{
		name:        "pilot_task_result",
		title:       "Show one task",
		description: "Show one task by ID: its state (submitted, accepted, executing, succeeded, failed, declined, cancelled or expired), and its result or error once it has ended.",
		readOnly:    true, local: true,
	}, func(ctx context.Context, in TaskIDInput) (localapi.TaskInfo, error) {
		if len(in.ID) != task.IDLen || strings.Trim(in.ID, "0123456789abcdef") != "" {
			return localapi.TaskInfo{}, localapi.Errorf(localapi.CodeInvalidArgument, "give a task ID as returned by pilot_task_submit or pilot_task_list",
				"id %.40q is not a task ID (32 lower-case hex digits)", in.ID)
		}
		return call(ctx, defaultTimeout, func(ctx context.Context) (localapi.TaskInfo, error) { return t.d.TaskGet(ctx, in.ID) })
	})
}

// submit checks and submits one task.
func (t tools) submit(ctx context.Context, in TaskSubmitInput) (localapi.TaskInfo, error) {
	to, err := parseTarget("to", in.To)
	if err != nil {
		return localapi.TaskInfo{}, err
	}
	if err := task.CheckType(in.Type); err != nil {
		return localapi.TaskInfo{}, localapi.Errorf(localapi.CodeInvalidArgument, "a task type is 1 to 64 characters a-z, 0-9, '.', '_' and '-'", "type: %v", err)
	}
	input := in.Input
	if len(input) == 0 {
		input = json.RawMessage("null")
	}
	if len(input) > task.MaxInput || !json.Valid(input) {
		return localapi.TaskInfo{}, localapi.Errorf(localapi.CodeInvalidArgument, "give one JSON value of at most 256 KiB",
			"input is not a JSON value of at most %d bytes", task.MaxInput)
	}
	deadline := defaultTaskTimeout
	if in.TimeoutSec != 0 {
		if err := checkRange("timeout_seconds", in.TimeoutSec, 1, maxTaskTimeoutSec); err != nil {
			return localapi.TaskInfo{}, err
		}
		deadline = time.Duration(in.TimeoutSec) * time.Second
	}
	req := localapi.TaskSubmitRequest{To: to, Type: in.Type, Input: input, TimeoutMs: deadline.Milliseconds(), Wait: in.Wait}
	callTimeout := defaultTimeout
	if in.Wait {
		callTimeout += deadline
	}
	return call(ctx, callTimeout, func(ctx context.Context) (localapi.TaskInfo, error) { return t.d.TaskSubmit(ctx, req) })
}

// list returns the most recently updated tasks, without large values.
func (t tools) list(ctx context.Context, in TaskListInput) (TaskListOutput, error) {
	out := TaskListOutput{Tasks: []TaskItem{}}
	limit := in.Limit
	if limit == 0 {
		limit = defaultTaskLimit
	}
	if err := checkRange("limit", limit, 1, maxTaskLimit); err != nil {
		return out, err
	}
	v, err := call(ctx, defaultTimeout, t.d.TaskList)
	if err != nil {
		return out, err
	}
	tasks := v.Tasks
	slices.SortStableFunc(tasks, func(a, b localapi.TaskInfo) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	out.Count = len(tasks)
	for _, ti := range tasks[:min(limit, len(tasks))] {
		it := TaskItem{TaskInfo: ti}
		if len(ti.Input) > maxListedValue {
			it.Input, it.Omitted = nil, append(it.Omitted, "input")
		}
		if len(ti.Result) > maxListedValue {
			it.Result, it.Omitted = nil, append(it.Omitted, "result")
		}
		out.Tasks = append(out.Tasks, it)
	}
	out.Returned = len(out.Tasks)
	return out, nil
}
