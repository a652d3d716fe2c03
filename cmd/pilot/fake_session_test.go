package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/pilot-agents/pilot/node/localapi"
)

// The fake's session layer: canned answers, every request recorded.

const otherAddr = "0a0b.0c0d.0e0f"

var (
	fakeInbox = localapi.InboxList{Count: 3, Messages: []localapi.InboxMessage{
		{ID: "m1", From: "12D3KooWOther", FromAddr: otherAddr, Kind: "text", Size: 5, ReceivedAt: "2025-01-02T03:04:05Z"},
		{ID: "m2", From: "12D3KooWOther", FromAddr: otherAddr, Kind: "binary", Size: 3, ReceivedAt: "2025-01-02T03:04:06Z"},
		{ID: "m3", From: "12D3KooWOther", FromAddr: otherAddr, Kind: "file", Name: "report.txt", Size: 4, ReceivedAt: "2025-01-02T03:04:07Z"},
	}}
	fakeTrust = localapi.TrustList{Count: 2, Records: []localapi.TrustRecord{
		{Address: otherAddr, PeerID: "12D3KooWOther", State: "trusted", Updated: "2025-01-02T03:04:05Z"},
		{Address: "1111.2222.3333", PeerID: "12D3KooWThird", State: "incoming_pending", Direction: "incoming", Message: "let me in", Updated: "2025-01-02T03:04:06Z"},
	}}
	fakePorts   = localapi.PortList{Ports: []localapi.PortInfo{{Port: 7, Public: true, Listening: true, Service: "echo"}, {Port: 8080, Listening: true}}}
	fakeTunnels = localapi.TunnelList{Tunnels: []localapi.Tunnel{
		{ID: "t1", Kind: "expose", Port: 8080, Local: "127.0.0.1:8080", Active: 1, Total: 4, BytesIn: 100, BytesOut: 2000, Created: "2025-01-02T03:04:05Z"},
	}}
	fakeClaimant = localapi.Claimant{Address: otherAddr, PeerID: "12D3KooWOther", Hostname: "weather", Tags: []string{"forecast"}, Trusted: true, Pinned: true, Score: 0.5}
)

// inboxMessage returns fakeInbox's message id with the body InboxGet
// adds; the file's path is f.filePath.
func (f *fakeBackend) inboxMessage(id string) (localapi.InboxMessage, bool) {
	for _, m := range fakeInbox.Messages {
		if m.ID != id {
			continue
		}
		switch m.Kind {
		case "text":
			m.Text = "hello"
		case "binary":
			m.Body = []byte{0xff, 0x00, 0x01}
		case "file":
			f.mu.Lock()
			m.Path = f.filePath
			f.mu.Unlock()
		}
		return m, true
	}
	return localapi.InboxMessage{}, false
}

// record notes a session call and its request.
func (f *fakeBackend) record(method string, req any) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	called := f.called
	f.mu.Unlock()
	if called != nil {
		called <- method
	}
}

// lastReq returns the latest recorded request.
func (f *fakeBackend) lastReq(t *testing.T) any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the daemon got no session request")
	}
	return f.reqs[len(f.reqs)-1]
}

// requests returns how many session requests the fake got.
func (f *fakeBackend) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// resolveTarget maps a hostname to otherAddr, like the daemon would.
func resolveTarget(s string) string {
	if strings.Contains(s, ".") {
		return s
	}
	return otherAddr
}

func (f *fakeBackend) Echo(_ context.Context, req localapi.EchoRequest) (localapi.EchoResult, error) {
	f.record("echo", req)
	return localapi.EchoResult{Address: resolveTarget(req.Address), PeerID: "12D3KooWOther", Text: req.Text, RTTMs: 1.25}, nil
}

func (f *fakeBackend) Send(_ context.Context, req localapi.SendRequest) (localapi.SendResult, error) {
	f.record("send", req)
	size := int64(len(req.Text) + len(req.JSON) + len(req.Binary))
	if req.Kind == "file" {
		size = 4
	}
	return localapi.SendResult{Address: resolveTarget(req.Address), PeerID: "12D3KooWOther", ID: "0123456789abcdef01234567", Kind: req.Kind, Size: size}, nil
}

func (f *fakeBackend) Inbox(context.Context) (localapi.InboxList, error) {
	f.record("inbox", nil)
	return fakeInbox, nil
}

func (f *fakeBackend) InboxGet(_ context.Context, id string) (localapi.InboxMessage, error) {
	f.record("inbox get", id)
	if m, ok := f.inboxMessage(id); ok {
		return m, nil
	}
	return localapi.InboxMessage{}, localapi.Errorf(localapi.CodeNotFound, "`pilot inbox` lists the message IDs", "no message %s", id)
}

func (f *fakeBackend) InboxDelete(_ context.Context, id string) (localapi.Deleted, error) {
	f.record("inbox rm", id)
	return localapi.Deleted{ID: id, Deleted: true}, nil
}

func (f *fakeBackend) Publish(_ context.Context, req localapi.PublishRequest) (localapi.Published, error) {
	f.record("publish", req)
	return localapi.Published{Topic: req.Topic, Size: len(req.Data), Peers: 2}, nil
}

// subscribeReq records a subscription.
type subscribeReq struct {
	Topic string
	Count int
}

// Subscribe emits 3 messages, then ends with streamErr or waits for its
// context; it ignores count, so the CLI must stop by itself.
func (f *fakeBackend) Subscribe(ctx context.Context, topic string, count int, emit func(localapi.TopicEvent) error) error {
	f.record("subscribe", subscribeReq{topic, count})
	for i := range 3 {
		e := localapi.TopicEvent{Topic: topic, From: "12D3KooWOther", FromAddr: otherAddr, Data: fmt.Sprintf("message %d", i+1), ReceivedAt: "2025-01-02T03:04:05Z"}
		if err := emit(e); err != nil {
			return err
		}
	}
	return f.endStream(ctx)
}

// Events is Subscribe for local events.
func (f *fakeBackend) Events(ctx context.Context, emit func(localapi.LocalEvent) error) error {
	f.record("events", nil)
	events := []localapi.LocalEvent{
		{Kind: "connected", Peer: "12D3KooWOther", Address: otherAddr, At: "2025-01-02T03:04:05Z"},
		{Kind: "trust_request", Peer: "12D3KooWOther", Address: otherAddr, At: "2025-01-02T03:04:06Z", Detail: map[string]string{"message": "let me in", "state": "incoming_pending"}},
		{Kind: "message", At: "2025-01-02T03:04:07Z", Detail: map[string]string{"id": "m1", "name": "", "note": "tab\there"}},
	}
	for _, e := range events {
		if err := emit(e); err != nil {
			return err
		}
	}
	return f.endStream(ctx)
}

func (f *fakeBackend) endStream(ctx context.Context) error {
	f.mu.Lock()
	err := f.streamErr
	f.mu.Unlock()
	if err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func (f *fakeBackend) Trust(_ context.Context, req localapi.TrustRequest) (localapi.TrustRecord, error) {
	f.record("trust", req)
	state := map[string]string{"request": "outgoing_pending", "approve": "trusted", "reject": "rejected", "revoke": "revoked"}[req.Action]
	return localapi.TrustRecord{Address: resolveTarget(req.Address), PeerID: "12D3KooWOther", State: state, Direction: "outgoing", Message: req.Message, Updated: "2025-01-02T03:04:05Z"}, nil
}

func (f *fakeBackend) TrustList(_ context.Context, pendingOnly bool) (localapi.TrustList, error) {
	f.record("trust list", pendingOnly)
	if pendingOnly {
		return localapi.TrustList{Count: 1, Records: fakeTrust.Records[1:]}, nil
	}
	return fakeTrust, nil
}

func (f *fakeBackend) SetPortPolicy(_ context.Context, req localapi.PortPolicyRequest) (localapi.PortInfo, error) {
	f.record("port", req)
	return localapi.PortInfo{Port: req.Port, Public: req.Public, Listening: true}, nil
}

func (f *fakeBackend) Ports(context.Context) (localapi.PortList, error) {
	f.record("ports", nil)
	return fakePorts, nil
}

func (f *fakeBackend) Expose(_ context.Context, req localapi.ExposeRequest) (localapi.Tunnel, error) {
	f.record("expose", req)
	return localapi.Tunnel{ID: "t1", Kind: "expose", Port: req.Port, Local: req.To, Created: "2025-01-02T03:04:05Z"}, nil
}

func (f *fakeBackend) Forward(_ context.Context, req localapi.ForwardRequest) (localapi.Tunnel, error) {
	f.record("forward", req)
	i := strings.LastIndexByte(req.To, ':')
	port, _ := strconv.Atoi(req.To[i+1:])
	return localapi.Tunnel{ID: "t2", Kind: "forward", Port: uint16(port), Local: req.Listen, Remote: req.To, Created: "2025-01-02T03:04:05Z"}, nil
}

func (f *fakeBackend) Tunnels(context.Context) (localapi.TunnelList, error) {
	f.record("tunnels", nil)
	return fakeTunnels, nil
}

func (f *fakeBackend) CloseTunnel(_ context.Context, id string) (localapi.Tunnel, error) {
	f.record("tunnel close", id)
	if id != "t1" {
		return localapi.Tunnel{}, localapi.Errorf(localapi.CodeNotFound, "`pilot tunnels` lists them", "no tunnel %s", id)
	}
	return fakeTunnels.Tunnels[0], nil
}

func (f *fakeBackend) SetProfile(_ context.Context, req localapi.ProfileRequest) (localapi.Profile, error) {
	f.record("profile", req)
	p := localapi.Profile{Address: fakeID.Address, Tags: []string{}, Ports: []uint16{7}, Version: "0.1.0"}
	if req.Hostname != nil {
		p.Hostname = *req.Hostname
	}
	if req.SetTags {
		p.Tags = append(p.Tags, req.Tags...)
	}
	return p, nil
}

func (f *fakeBackend) Find(_ context.Context, req localapi.FindRequest) (localapi.FindResult, error) {
	f.record("find", req)
	switch {
	case req.Name == "twins":
		return localapi.FindResult{}, localapi.Errorf(localapi.CodeAmbiguous, "trust one of them or use an address: 0a0b.0c0d.0e0f, 1111.2222.3333",
			"dht: name twins: 2 unranked claimants: ambiguous")
	case req.Name == "nobody":
		return localapi.FindResult{Query: "nobody", Claimants: []localapi.Claimant{}}, nil
	case req.Tag != "":
		return localapi.FindResult{Query: "tag:" + req.Tag, Count: 1, Claimants: []localapi.Claimant{fakeClaimant}}, nil
	}
	return localapi.FindResult{Query: req.Name, Count: 1, Claimants: []localapi.Claimant{fakeClaimant}}, nil
}

// dialReq records a DialPort call.
type dialReq struct {
	Address string
	Port    uint16
}

func (f *fakeBackend) DialPort(_ context.Context, address string, port uint16) (net.Conn, error) {
	f.record("dial", dialReq{address, port})
	f.mu.Lock()
	err := f.dialErr
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.stream()
}

// acceptReq records an AcceptPort call.
type acceptReq struct{ Port uint16 }

func (f *fakeBackend) AcceptPort(ctx context.Context, port uint16) (net.Conn, error) {
	f.record("accept", acceptReq{port})
	f.mu.Lock()
	block := f.acceptBlock
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.stream()
}

// stream returns one end of a loopback TCP connection (which, unlike
// net.Pipe, half-closes) and runs f.remote on the other.
func (f *fakeBackend) stream() (net.Conn, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	local, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		l.Close() // ends the Accept
	}
	far := <-accepted
	if err != nil || far == nil {
		if far != nil {
			far.Close()
		}
		if local != nil {
			local.Close()
		}
		return nil, fmt.Errorf("loopback pair: %v", err)
	}
	f.mu.Lock()
	remote := f.remote
	f.mu.Unlock()
	f.remotes.Go(func() {
		defer far.Close()
		remote(far)
	})
	return local, nil
}
