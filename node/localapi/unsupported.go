package localapi

import (
	"context"
	"net"
)

// UnsupportedBackend answers every SessionBackend and PoloBackend method with an
// internal error; embed it in partial backends (tests, tools).
type UnsupportedBackend struct{}

func unsupported(what string) *Error {
	return Errorf(CodeInternal, "this daemon does not support it", "%s is not available", what)
}

// Echo implements SessionBackend.
func (UnsupportedBackend) Echo(context.Context, EchoRequest) (EchoResult, error) {
	return EchoResult{}, unsupported("echo")
}

// Send implements SessionBackend.
func (UnsupportedBackend) Send(context.Context, SendRequest) (SendResult, error) {
	return SendResult{}, unsupported("send")
}

// Inbox implements SessionBackend.
func (UnsupportedBackend) Inbox(context.Context) (InboxList, error) {
	return InboxList{}, unsupported("inbox")
}

// InboxGet implements SessionBackend.
func (UnsupportedBackend) InboxGet(context.Context, string) (InboxMessage, error) {
	return InboxMessage{}, unsupported("inbox get")
}

// InboxDelete implements SessionBackend.
func (UnsupportedBackend) InboxDelete(context.Context, string) (Deleted, error) {
	return Deleted{}, unsupported("inbox delete")
}

// Publish implements SessionBackend.
func (UnsupportedBackend) Publish(context.Context, PublishRequest) (Published, error) {
	return Published{}, unsupported("publish")
}

// Subscribe implements SessionBackend.
func (UnsupportedBackend) Subscribe(context.Context, string, int, func(TopicEvent) error) error {
	return unsupported("subscribe")
}

// Events implements SessionBackend.
func (UnsupportedBackend) Events(context.Context, func(LocalEvent) error) error {
	return unsupported("events")
}

// Trust implements SessionBackend.
func (UnsupportedBackend) Trust(context.Context, TrustRequest) (TrustRecord, error) {
	return TrustRecord{}, unsupported("trust")
}

// TrustList implements SessionBackend.
func (UnsupportedBackend) TrustList(context.Context, bool) (TrustList, error) {
	return TrustList{}, unsupported("trust list")
}

// SetPortPolicy implements SessionBackend.
func (UnsupportedBackend) SetPortPolicy(context.Context, PortPolicyRequest) (PortInfo, error) {
	return PortInfo{}, unsupported("port policy")
}

// Ports implements SessionBackend.
func (UnsupportedBackend) Ports(context.Context) (PortList, error) {
	return PortList{}, unsupported("ports")
}

// Expose implements SessionBackend.
func (UnsupportedBackend) Expose(context.Context, ExposeRequest) (Tunnel, error) {
	return Tunnel{}, unsupported("expose")
}

// Forward implements SessionBackend.
func (UnsupportedBackend) Forward(context.Context, ForwardRequest) (Tunnel, error) {
	return Tunnel{}, unsupported("forward")
}

// Tunnels implements SessionBackend.
func (UnsupportedBackend) Tunnels(context.Context) (TunnelList, error) {
	return TunnelList{}, unsupported("tunnels")
}

// CloseTunnel implements SessionBackend.
func (UnsupportedBackend) CloseTunnel(context.Context, string) (Tunnel, error) {
	return Tunnel{}, unsupported("tunnel close")
}

// SetProfile implements SessionBackend.
func (UnsupportedBackend) SetProfile(context.Context, ProfileRequest) (Profile, error) {
	return Profile{}, unsupported("profile")
}

// Find implements SessionBackend.
func (UnsupportedBackend) Find(context.Context, FindRequest) (FindResult, error) {
	return FindResult{}, unsupported("find")
}

// DialPort implements SessionBackend.
func (UnsupportedBackend) DialPort(context.Context, string, uint16) (net.Conn, error) {
	return nil, unsupported("connect")
}

// AcceptPort implements SessionBackend.
func (UnsupportedBackend) AcceptPort(context.Context, uint16) (net.Conn, error) {
	return nil, unsupported("listen")
}

// TaskSubmit implements PoloBackend.
func (UnsupportedBackend) TaskSubmit(context.Context, TaskSubmitRequest) (TaskInfo, error) {
	return TaskInfo{}, unsupported("tasks")
}

// TaskList implements PoloBackend.
func (UnsupportedBackend) TaskList(context.Context) (TaskList, error) {
	return TaskList{}, unsupported("tasks")
}

// TaskGet implements PoloBackend.
func (UnsupportedBackend) TaskGet(context.Context, string) (TaskInfo, error) {
	return TaskInfo{}, unsupported("tasks")
}

// TaskAction implements PoloBackend.
func (UnsupportedBackend) TaskAction(context.Context, TaskActionRequest) (TaskInfo, error) {
	return TaskInfo{}, unsupported("tasks")
}

// Polo implements PoloBackend.
func (UnsupportedBackend) Polo(context.Context, string) (PoloInfo, error) {
	return PoloInfo{}, unsupported("polo")
}

// PoloStats implements PoloBackend.
func (UnsupportedBackend) PoloStats(context.Context) (PoloStats, error) {
	return PoloStats{}, unsupported("polo")
}
