package trust

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// limitWindow is the rate-limit window.
const limitWindow = time.Minute

// maxLimiterPeers bounds the limiter's table; past it, expired windows are
// swept, and if every window is still live the oldest ones go.
const maxLimiterPeers = 4096

// limiter counts frames and requests per remote peer in fixed one-minute
// windows. It is in memory only: a restart forgives everyone.
type limiter struct {
	mu       sync.Mutex
	frames   int
	requests int
	peers    map[peer.ID]*window
}

type window struct {
	start    time.Time
	frames   int
	requests int
}

func newLimiter(frames, requests int) *limiter {
	return &limiter{frames: frames, requests: requests, peers: make(map[peer.ID]*window)}
}

// allow counts one frame from p (and one request if request is set) and
// reports whether it is within the limits. A refused frame still counts, so
// a peer that keeps flooding stays refused until it pauses.
func (l *limiter) allow(p peer.ID, request bool, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.peers[p]
	if w == nil || now.Sub(w.start) >= limitWindow || now.Before(w.start) {
		if w == nil && len(l.peers) >= maxLimiterPeers {
			l.sweep(now)
		}
		w = &window{start: now}
		l.peers[p] = w
	}
	w.frames++
	if request {
		w.requests++
	}
	return w.frames <= l.frames && (!request || w.requests <= l.requests)
}

// sweep drops expired windows; if none expired, it drops half the table
// (the oldest windows) so the table stays bounded under a Sybil flood.
func (l *limiter) sweep(now time.Time) {
	for p, w := range l.peers {
		if now.Sub(w.start) >= limitWindow {
			delete(l.peers, p)
		}
	}
	if len(l.peers) < maxLimiterPeers {
		return
	}
	var oldest time.Time
	for _, w := range l.peers {
		if oldest.IsZero() || w.start.Before(oldest) {
			oldest = w.start
		}
	}
	cut := oldest.Add(now.Sub(oldest) / 2)
	for p, w := range l.peers {
		if !w.start.After(cut) {
			delete(l.peers, p)
		}
	}
}
