package node

import (
	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
)

var log = logging.Logger("pilot/node")

// go-libp2p logs through slog; route it into go-log so one setting
// (GOLOG_LOG_LEVEL, e.g. "warn,pilot/dht=debug") controls every subsystem.
// This must run before go-libp2p logs anything.
func init() {
	gologshim.SetDefaultHandler(logging.SlogHandler())
}
