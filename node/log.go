package node

import (
	"log/slog"

	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
)

// Logging (docs/observability.md): every subsystem logs through go-log,
// one logger per subsystem ("pilot/node", "pilot/task", "pilot/dht", ...),
// so GOLOG_LOG_LEVEL (e.g. "warn,pilot/dht=debug") sets every level and
// GOLOG_LOG_FMT=json makes every line JSON. Attribute keys come from one
// fixed vocabulary, package node/logkey: use its constants, never string
// literals, in log calls.

var log = logging.Logger("pilot/node")

// taskLogName is the subsystem of the task service's logs. Creating the
// go-log logger registers the name, so levels set before the first task
// log (pilot up's "^pilot/" default, GOLOG_LOG_LEVEL) apply to it.
const taskLogName = "pilot/task"

var _ = logging.Logger(taskLogName)

// taskLogger is the slog logger the task service (which logs through slog)
// gets: go-log's bridge, tagged with its subsystem for per-subsystem
// levels.
func taskLogger() *slog.Logger {
	return slog.New(logging.SlogHandler()).With("logger", taskLogName)
}

// go-libp2p logs through slog; route it into go-log so one setting
// (GOLOG_LOG_LEVEL, e.g. "warn,pilot/dht=debug") controls every subsystem.
// This must run before go-libp2p logs anything.
func init() {
	gologshim.SetDefaultHandler(logging.SlogHandler())
}
