package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/pilot-agents/pilot/node/logkey"
)

// mdnsNotifee connects to peers that mDNS finds on the LAN. Connections
// run in goroutines tracked by wg and bounded by ctx.
type mdnsNotifee struct {
	ctx  context.Context
	h    host.Host
	wg   *sync.WaitGroup
	mu   sync.Mutex
	busy map[peer.ID]bool
}

func startMDNS(ctx context.Context, h host.Host, service string, wg *sync.WaitGroup) (mdns.Service, error) {
	nf := &mdnsNotifee{ctx: ctx, h: h, wg: wg, busy: make(map[peer.ID]bool)}
	svc := mdns.NewMdnsService(h, service, nf)
	if err := svc.Start(); err != nil {
		return nil, fmt.Errorf("node: start mDNS: %w", err)
	}
	return svc, nil
}

// HandlePeerFound is called by mDNS from its own goroutine.
func (m *mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == m.h.ID() || m.ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	if m.busy[ai.ID] {
		m.mu.Unlock()
		return
	}
	m.busy[ai.ID] = true
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		defer func() { m.mu.Lock(); delete(m.busy, ai.ID); m.mu.Unlock() }()
		ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
		defer cancel()
		if err := m.h.Connect(ctx, ai); err != nil {
			log.Debugw("mDNS peer unreachable", logkey.Peer, ai.ID, logkey.Err, err)
			return
		}
		log.Infow("found LAN peer by mDNS", logkey.Peer, ai.ID)
	}()
}
