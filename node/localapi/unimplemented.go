package localapi

import (
	"context"
	"net"
)

// UnimplementedBackend answers every SessionBackend method with an
// internal error; embed it in partial backends (tests, tools).
type UnimplementedBackend struct{}

func unimplemented(what string) *Error {
	return Errorf(CodeInternal, "this daemon does not support it", "%s is not available", what)
}

// Echo implements SessionBackend.
func (UnimplementedBackend) Echo(context.Context, EchoRequest) (EchoResult, error) {
	return EchoResult{}, unimplemented("echo")
}

// Send implements SessionBackend.
func (UnimplementedBackend) Send(context.Context, SendRequest) (SendResult, error) {
	return SendResult{}, unimplemented("send")
}

// Inbox implements SessionBackend.
func (UnimplementedBackend) Inbox(context.Context) (InboxList, error) {
	return InboxList{}, unimplemented("inbox")
}

// InboxGet implements SessionBackend.
func (UnimplementedBackend) InboxGet(context.Context, string) (InboxMessage, error) {
	return InboxMessage{}, unimplemented("inbox get")
}

// InboxDelete implements SessionBackend.
func (UnimplementedBackend) InboxDelete(context.Context, string) (Deleted, error) {
	return Deleted{}, unimplemented("inbox delete")
}

// Publish implements SessionBackend.
func (UnimplementedBackend) Publish(context.Context, PublishRequest) (Published, error) {
	return Published{}, unimplemented("publish")
}

// Subscribe implements SessionBackend.
func (UnimplementedBackend) Subscribe(context.Context, string, int, func(TopicEvent) error) error {
	return unimplemented("subscribe")
}

// Events implements SessionBackend.
func (UnimplementedBackend) Events(context.Context, func(LocalEvent) error) error {
	return unimplemented("events")
}

// Trust implements SessionBackend.
func (UnimplementedBackend) Trust(context.Context, TrustRequest) (TrustRecord, error) {
	return TrustRecord{}, unimplemented("trust")
}

// TrustList implements SessionBackend.
func (UnimplementedBackend) TrustList(context.Context, bool) (TrustList, error) {
	return TrustList{}, unimplemented("trust list")
}

// SetPortPolicy implements SessionBackend.
func (UnimplementedBackend) SetPortPolicy(context.Context, PortPolicyRequest) (PortInfo, error) {
	return PortInfo{}, unimplemented("port policy")
}

// Ports implements SessionBackend.
func (UnimplementedBackend) Ports(context.Context) (PortList, error) {
	return PortList{}, unimplemented("ports")
}

// Expose implements SessionBackend.
func (UnimplementedBackend) Expose(context.Context, ExposeRequest) (Tunnel, error) {
	return Tunnel{}, unimplemented("expose")
}

// Forward implements SessionBackend.
func (UnimplementedBackend) Forward(context.Context, ForwardRequest) (Tunnel, error) {
	return Tunnel{}, unimplemented("forward")
}

// Tunnels implements SessionBackend.
func (UnimplementedBackend) Tunnels(context.Context) (TunnelList, error) {
	return TunnelList{}, unimplemented("tunnels")
}

// CloseTunnel implements SessionBackend.
func (UnimplementedBackend) CloseTunnel(context.Context, string) (Tunnel, error) {
	return Tunnel{}, unimplemented("tunnel close")
}

// SetProfile implements SessionBackend.
func (UnimplementedBackend) SetProfile(context.Context, ProfileRequest) (Profile, error) {
	return Profile{}, unimplemented("profile")
}

// Find implements SessionBackend.
func (UnimplementedBackend) Find(context.Context, FindRequest) (FindResult, error) {
	return FindResult{}, unimplemented("find")
}

// DialPort implements SessionBackend.
func (UnimplementedBackend) DialPort(context.Context, string, uint16) (net.Conn, error) {
	return nil, unimplemented("connect")
}

// AcceptPort implements SessionBackend.
func (UnimplementedBackend) AcceptPort(context.Context, uint16) (net.Conn, error) {
	return nil, unimplemented("listen")
}
