package client

import "github.com/pilot-agents/pilot/node/localapi"

// The wire types of the local API, under the names the SDK uses. They are
// aliases: a value of one is a value of the other.
type (
	// Identity is the node's Pilot address and libp2p peer ID.
	Identity = localapi.Identity
	// Status is the node's state: addresses, NAT, peers, relays...
	Status = localapi.Status
	// Resolved is an address resolved through the DHT.
	Resolved = localapi.Resolved
	// PingResult is the outcome of a ping: path and round-trip times.
	PingResult = localapi.PingResult
	// Peer is one connected peer.
	Peer = localapi.Peer
	// Peers lists the connected peers.
	Peers = localapi.Peers
	// Unpinned answers Unpin.
	Unpinned = localapi.Unpinned
	// EchoResult answers Echo.
	EchoResult = localapi.EchoResult
	// SendRequest is one message for Send: text, JSON, binary or a file.
	SendRequest = localapi.SendRequest
	// SendResult answers Send.
	SendResult = localapi.SendResult
	// InboxMessage is one received message.
	InboxMessage = localapi.InboxMessage
	// InboxList lists the inbox.
	InboxList = localapi.InboxList
	// Deleted answers InboxDelete.
	Deleted = localapi.Deleted
	// Published answers Publish.
	Published = localapi.Published
	// TopicEvent is one message received on a subscribed topic.
	TopicEvent = localapi.TopicEvent
	// LocalEvent is one thing the daemon saw (trust request, message, ...).
	LocalEvent = localapi.LocalEvent
	// TrustRecord is the trust state with one agent.
	TrustRecord = localapi.TrustRecord
	// TrustList lists trust records.
	TrustList = localapi.TrustList
	// PortInfo is one port's state.
	PortInfo = localapi.PortInfo
	// PortList lists the ports that listen or are public.
	PortList = localapi.PortList
	// Tunnel is one expose or forward tunnel and its counters.
	Tunnel = localapi.Tunnel
	// TunnelList lists the tunnels.
	TunnelList = localapi.TunnelList
	// ProfileRequest changes the node's profile; nil fields stay.
	ProfileRequest = localapi.ProfileRequest
	// Profile is the node's published profile.
	Profile = localapi.Profile
	// Claimant is one verified agent behind a hostname or tag.
	Claimant = localapi.Claimant
	// FindResult answers Find and FindTag.
	FindResult = localapi.FindResult
	// TaskSubmitRequest submits a task to a worker.
	TaskSubmitRequest = localapi.TaskSubmitRequest
	// TaskInfo is one task as the node sees it.
	TaskInfo = localapi.TaskInfo
	// TaskList lists the tasks.
	TaskList = localapi.TaskList
	// TaskActionRequest accepts, declines, cancels or completes a task.
	TaskActionRequest = localapi.TaskActionRequest
	// PoloInfo is one agent's Polo score in the node's view.
	PoloInfo = localapi.PoloInfo
	// PoloStats counts what the attestation store holds and refused.
	PoloStats = localapi.PoloStats
	// Doctor is the daemon's self-check: the worst status and each check.
	Doctor = localapi.Doctor
	// DoctorCheck is one check of Doctor: status "ok", "warn" or "fail".
	DoctorCheck = localapi.DoctorCheck
	// Error is every error the client returns: a Code, a Message and a
	// Hint, as in the CLI's error envelopes.
	Error = localapi.Error
)

// Error codes (Error.Code), the same as the CLI's.
const (
	// CodeInvalidArgument: a malformed or out-of-range argument; nothing
	// was attempted.
	CodeInvalidArgument = localapi.CodeInvalidArgument
	// CodeNotFound: the address, name, record, message or tunnel does not
	// exist.
	CodeNotFound = localapi.CodeNotFound
	// CodeAmbiguous: a name matches more than one agent.
	CodeAmbiguous = localapi.CodeAmbiguous
	// CodeNotRunning: no daemon answers on the socket.
	CodeNotRunning = localapi.CodeNotRunning
	// CodeConnectionFailed: the agent was found but not reached, or
	// nothing listens on its port.
	CodeConnectionFailed = localapi.CodeConnectionFailed
	// CodeTimeout: the operation did not finish in time.
	CodeTimeout = localapi.CodeTimeout
	// CodeTrustRequired: the agent's port is open to agents it trusts only.
	CodeTrustRequired = localapi.CodeTrustRequired
	// CodeInternal: a bug or an environment problem.
	CodeInternal = localapi.CodeInternal
)

// AsError returns err as an *Error (nil for nil): errors of this package
// are *Error already; others become CodeInternal, or CodeTimeout for a
// context deadline.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	return localapi.AsError(err)
}
