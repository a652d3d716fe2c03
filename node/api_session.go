package node

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/ports"
	"github.com/pilot-agents/pilot/node/trust"
)

// target reads an address or hostname argument.
func (b apiBackend) target(ctx context.Context, s string) (addressing.Addr, error) {
	a, err := b.n.AddrOf(ctx, s)
	if err != nil {
		return a, apiError(err)
	}
	return a, nil
}

func (b apiBackend) Echo(ctx context.Context, req localapi.EchoRequest) (localapi.EchoResult, error) {
	a, err := b.target(ctx, req.Address)
	if err != nil {
		return localapi.EchoResult{}, err
	}
	out, rtt, err := b.n.Echo(ctx, a, req.Text)
	if err != nil {
		return localapi.EchoResult{}, apiError(err)
	}
	id, _ := b.n.peerOf(ctx, a)
	return localapi.EchoResult{Address: a.String(), PeerID: id.String(), Text: out, RTTMs: ms(rtt)}, nil
}

func (b apiBackend) Trust(ctx context.Context, req localapi.TrustRequest) (localapi.TrustRecord, error) {
	a, err := b.target(ctx, req.Address)
	if err != nil {
		return localapi.TrustRecord{}, err
	}
	p, err := b.n.peerOf(ctx, a)
	if err != nil {
		return localapi.TrustRecord{}, apiError(err)
	}
	m := b.n.trustMgr
	var rec trust.Record
	switch req.Action {
	case "request":
		rec, err = m.Request(ctx, p, req.Message)
	case "approve":
		rec, err = m.Approve(ctx, p)
	case "reject":
		rec, err = m.Reject(ctx, p)
	case "revoke":
		rec, err = m.Revoke(ctx, p)
	default:
		return localapi.TrustRecord{}, localapi.Errorf(localapi.CodeInvalidArgument, "use request, approve, reject or revoke", "unknown trust action %q", req.Action)
	}
	if err != nil {
		return localapi.TrustRecord{}, apiError(err)
	}
	return trustRecord(rec), nil
}

func (b apiBackend) TrustList(ctx context.Context, pendingOnly bool) (localapi.TrustList, error) {
	if err := b.n.running(); err != nil {
		return localapi.TrustList{}, apiError(err)
	}
	list := b.n.trustMgr.List
	if pendingOnly {
		list = b.n.trustMgr.Pending
	}
	recs, err := list()
	if err != nil {
		return localapi.TrustList{}, apiError(err)
	}
	out := localapi.TrustList{Count: len(recs), Records: make([]localapi.TrustRecord, 0, len(recs))}
	for _, r := range recs {
		out.Records = append(out.Records, trustRecord(r))
	}
	return out, nil
}

func trustRecord(r trust.Record) localapi.TrustRecord {
	return localapi.TrustRecord{
		Address:   r.Addr.String(),
		PeerID:    r.PeerID.String(),
		State:     string(r.State),
		Direction: r.Direction,
		Message:   r.Message,
		Updated:   r.Updated.UTC().Format(time.RFC3339),
	}
}

func (b apiBackend) SetPortPolicy(ctx context.Context, req localapi.PortPolicyRequest) (localapi.PortInfo, error) {
	if req.Port == 0 {
		return localapi.PortInfo{}, localapi.Errorf(localapi.CodeInvalidArgument, "ports are 1 to 65535", "port 0 is not a port")
	}
	if err := b.n.SetPortPublic(req.Port, req.Public); err != nil {
		return localapi.PortInfo{}, apiError(err)
	}
	return b.portInfo(req.Port), nil
}

func (b apiBackend) Ports(ctx context.Context) (localapi.PortList, error) {
	if err := b.n.running(); err != nil {
		return localapi.PortList{}, apiError(err)
	}
	seen := map[uint16]bool{}
	for _, p := range b.n.ports.Listening() {
		seen[p] = true
	}
	for _, p := range b.n.PublicPorts() {
		seen[p] = true
	}
	var nums []uint16
	for p := range seen {
		nums = append(nums, p)
	}
	slices.Sort(nums)
	out := localapi.PortList{Ports: make([]localapi.PortInfo, 0, len(nums))}
	for _, p := range nums {
		out.Ports = append(out.Ports, b.portInfo(p))
	}
	return out, nil
}

// wellKnown names the built-in services.
var wellKnown = map[uint16]string{
	ports.PortEcho: "echo", ports.PortTrust: "trust", ports.PortStdio: "stdio",
	ports.PortData: "data exchange", ports.PortEvents: "event stream", ports.PortTasks: "tasks",
}

func (b apiBackend) portInfo(port uint16) localapi.PortInfo {
	return localapi.PortInfo{
		Port:      port,
		Public:    slices.Contains(b.n.PublicPorts(), port),
		Listening: slices.Contains(b.n.ports.Listening(), port),
		Service:   wellKnown[port],
	}
}

func (b apiBackend) Publish(ctx context.Context, req localapi.PublishRequest) (localapi.Published, error) {
	n, err := b.n.Publish(ctx, req.Topic, []byte(req.Data))
	if err != nil {
		return localapi.Published{}, apiError(err)
	}
	return localapi.Published{Topic: req.Topic, Size: len(req.Data), Peers: n}, nil
}

func (b apiBackend) Subscribe(ctx context.Context, topic string, count int, emit func(localapi.TopicEvent) error) error {
	err := b.n.Subscribe(ctx, topic, count, func(e gossip.Event) error {
		data := string(e.Data)
		if !utf8.ValidString(data) {
			data = "base64:" + base64Std(e.Data)
		}
		return emit(localapi.TopicEvent{
			Topic: topic, From: e.From.String(), FromAddr: e.FromAddr.String(),
			Data: data, ReceivedAt: e.ReceivedAt.UTC().Format(time.RFC3339Nano),
		})
	})
	if err != nil && ctx.Err() == nil {
		return apiError(err)
	}
	return nil
}

func (b apiBackend) Events(ctx context.Context, emit func(localapi.LocalEvent) error) error {
	err := b.n.Events(ctx, func(e LocalEvent) error {
		le := localapi.LocalEvent{Kind: e.Kind, At: e.At.UTC().Format(time.RFC3339Nano), Detail: e.Detail}
		if e.Peer != "" {
			le.Peer = e.Peer.String()
			le.Address = addrOfPeer(e.Peer).String()
		}
		return emit(le)
	})
	if err != nil && ctx.Err() == nil {
		return apiError(err)
	}
	return nil
}

func (b apiBackend) DialPort(ctx context.Context, address string, port uint16) (net.Conn, error) {
	a, err := b.target(ctx, address)
	if err != nil {
		return nil, err
	}
	c, err := b.n.DialAddr(ctx, a, port)
	if err != nil {
		return nil, apiError(err)
	}
	return c, nil
}

func (b apiBackend) AcceptPort(ctx context.Context, port uint16) (net.Conn, error) {
	l, err := b.n.Listen(port)
	if err != nil {
		return nil, apiError(err)
	}
	defer l.Close()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	c, err := l.AcceptConn()
	if err != nil {
		if ctx.Err() != nil {
			return nil, apiError(ctx.Err())
		}
		return nil, apiError(err)
	}
	return c, nil
}

func (b apiBackend) SetProfile(ctx context.Context, req localapi.ProfileRequest) (localapi.Profile, error) {
	var tags []string
	if req.SetTags {
		tags = append([]string{}, req.Tags...)
	}
	p, err := b.n.SetProfile(req.Hostname, tags)
	if err != nil {
		return localapi.Profile{}, apiError(err)
	}
	return localapi.Profile{Address: b.n.addr.String(), Hostname: p.Hostname, Tags: nonNil(p.Tags), Ports: p.Ports, Version: p.Version}, nil
}

func (b apiBackend) Find(ctx context.Context, req localapi.FindRequest) (localapi.FindResult, error) {
	if (req.Name == "") == (req.Tag == "") {
		return localapi.FindResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "pilot find <hostname> or pilot find --tag <tag>", "give a hostname or a tag")
	}
	cs, err := b.n.Find(ctx, req.Name, req.Tag)
	if err != nil {
		return localapi.FindResult{}, apiError(err)
	}
	q := req.Name
	if req.Tag != "" {
		q = "tag:" + req.Tag
	}
	out := localapi.FindResult{Query: q, Count: len(cs), Claimants: make([]localapi.Claimant, 0, len(cs))}
	for _, c := range cs {
		out.Claimants = append(out.Claimants, localapi.Claimant{
			Address: c.Addr.String(), PeerID: c.PeerID.String(), Hostname: c.Hostname,
			Tags: nonNil(c.Tags), Trusted: c.Trusted, Pinned: c.Pinned, Score: c.Score,
		})
	}
	if req.Name != "" && len(cs) > 1 {
		if _, err := dht.ResolveName(cs); errors.Is(err, dht.ErrAmbiguous) {
			return out, localapi.Errorf(localapi.CodeAmbiguous, "trust one of them (`pilot trust request`) or address it by its address: "+claimantList(cs), "%v", err)
		}
	}
	return out, nil
}

func claimantList(cs []dht.Claimant) string {
	s := ""
	for i, c := range cs {
		if i > 0 {
			s += ", "
		}
		s += c.Addr.String()
	}
	return s
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
