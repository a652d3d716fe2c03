package node

import (
	"net"

	"github.com/pilot-agents/pilot/node/localapi"
)

var _ localapi.ListenBackend = apiBackend{}

// ListenPort implements localapi.ListenBackend: it opens port for a client
// that serves many streams on it (node/client's Listen); the local API
// server closes the listener when that client goes away.
func (b apiBackend) ListenPort(port uint16) (net.Listener, error) {
	l, err := b.n.Listen(port)
	if err != nil {
		return nil, apiError(err)
	}
	return l, nil
}
