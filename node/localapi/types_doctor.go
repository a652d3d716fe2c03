package localapi

import (
	"context"
	"time"
)

// Doctor check statuses.
const (
	DoctorOK   = "ok"
	DoctorWarn = "warn"
	DoctorFail = "fail"
)

// DoctorCheck is one check of `pilot doctor`.
type DoctorCheck struct {
	// Name is reachability, relay, dht, clock or store.
	Name string `json:"name"`
	// Status is "ok", "warn" or "fail".
	Status string `json:"status"`
	// Summary says what was found.
	Summary string `json:"summary"`
	// Fix says what to do; empty for an ok check.
	Fix string `json:"fix"`
	// Details are the measurements behind the verdict (docs/observability.md
	// lists them per check).
	Details map[string]string `json:"details"`
}

// Doctor answers `pilot doctor`.
type Doctor struct {
	// Health is the worst status of the checks: "ok", "warn" or "fail".
	Health    string        `json:"health"`
	Checks    []DoctorCheck `json:"checks"`
	CheckedAt time.Time     `json:"checked_at"`
}

// DoctorBackend is the daemon checking itself.
type DoctorBackend interface {
	// Doctor runs every check; it may take a few seconds (a DHT lookup,
	// a time exchange with peers).
	Doctor(ctx context.Context) (Doctor, error)
}

// Doctor implements DoctorBackend.
func (UnsupportedBackend) Doctor(context.Context) (Doctor, error) {
	return Doctor{}, unsupported("doctor")
}
