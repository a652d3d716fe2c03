package localapi

import (
	"context"
	"encoding/json"
	"time"
)

// TaskSubmitRequest submits a task to a worker (`pilot task submit`).
type TaskSubmitRequest struct {
	To        string          `json:"to"` // address or hostname of the worker
	Type      string          `json:"type"`
	Input     json.RawMessage `json:"input"`
	TimeoutMs int64           `json:"timeout_ms"` // the task's deadline from now; 0: the default
	Wait      bool            `json:"wait"`       // answer only once the task has ended
}

// TaskInfo is one task as the local node sees it.
type TaskInfo struct {
	ID          string          `json:"id"`
	Role        string          `json:"role"` // "requester" or "worker": the local node's part
	State       string          `json:"state"`
	Type        string          `json:"type"`
	Peer        string          `json:"peer"`    // the other side's address
	PeerID      string          `json:"peer_id"` // the other side's peer ID
	Input       json.RawMessage `json:"input"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	Hash        string          `json:"task_hash"` // hex SHA-256, what attestations name
	SubmittedAt time.Time       `json:"submitted_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Deadline    time.Time       `json:"deadline"`
	Receipt     bool            `json:"receipt"` // the worker's signed receipt is held
}

// TaskList answers `pilot task list`.
type TaskList struct {
	Tasks []TaskInfo `json:"tasks"`
}

// TaskActionRequest acts on a task: accept, decline, cancel or complete.
type TaskActionRequest struct {
	ID     string          `json:"id"`
	Action string          `json:"action"`
	Reason string          `json:"reason,omitempty"` // decline
	Result json.RawMessage `json:"result,omitempty"` // complete: the result
	Error  string          `json:"error,omitempty"`  // complete: a failure
}

// PoloInfo is one peer's Polo score in the local node's view.
type PoloInfo struct {
	Address      string     `json:"address"`
	PeerID       string     `json:"peer_id"`
	Score        int        `json:"score"` // 0..1000 (docs/polo.md)
	Trust        float64    `json:"trust"` // the global trust share behind it
	Attestations int        `json:"attestations"`
	Successes    int        `json:"successes"`
	Failures     int        `json:"failures"`
	Issuers      int        `json:"issuers"`
	LastSeen     *time.Time `json:"last_seen"`
	Derivation   string     `json:"derivation"`
	Iterations   int        `json:"iterations"`
	ComputedAt   time.Time  `json:"computed_at"`
}

// PoloStats answers `pilot polo stats`: what the attestation store holds
// and what it refused, by reason.
type PoloStats struct {
	Stored   int               `json:"stored"`
	Accepted uint64            `json:"accepted"`
	Rejected map[string]uint64 `json:"rejected"`
	Gossip   map[string]uint64 `json:"gossip"`
	Sync     map[string]uint64 `json:"sync"`
	Tasks    map[string]uint64 `json:"tasks"`
}

// PoloBackend is tasks and reputation.
type PoloBackend interface {
	TaskSubmit(ctx context.Context, req TaskSubmitRequest) (TaskInfo, error)
	TaskList(ctx context.Context) (TaskList, error)
	TaskGet(ctx context.Context, id string) (TaskInfo, error)
	TaskAction(ctx context.Context, req TaskActionRequest) (TaskInfo, error)
	Polo(ctx context.Context, address string) (PoloInfo, error) // "" = the node itself
	PoloStats(ctx context.Context) (PoloStats, error)
}
