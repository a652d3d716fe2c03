package localapi

import "encoding/json"

// EchoRequest asks the daemon to send Text to an agent's echo port (7).
type EchoRequest struct {
	Address string `json:"address"` // address or hostname
	Text    string `json:"text"`
}

// EchoResult answers `pilot echo`.
type EchoResult struct {
	Address string  `json:"address"`
	PeerID  string  `json:"peer_id"`
	Text    string  `json:"text"`
	RTTMs   float64 `json:"rtt_ms"`
}

// SendRequest asks the daemon to deliver one message to an agent's data
// exchange port (1001). Kind is "text", "json", "binary" or "file"; Body
// carries text and JSON as is and binary as base64 (encoding/json's
// []byte); a file is read by the daemon from Path.
type SendRequest struct {
	Address string          `json:"address"`
	Kind    string          `json:"kind"`
	Text    string          `json:"text,omitempty"`
	JSON    json.RawMessage `json:"json,omitempty"`
	Binary  []byte          `json:"binary,omitempty"`
	Path    string          `json:"path,omitempty"`
}

// SendResult answers `pilot send`.
type SendResult struct {
	Address string `json:"address"`
	PeerID  string `json:"peer_id"`
	ID      string `json:"id"` // the message's ID in the receiver's inbox
	Kind    string `json:"kind"`
	Size    int64  `json:"size"`
}

// InboxMessage is one received message. Body is set by `inbox get` only:
// text for text and JSON, base64 for binary and inline files.
type InboxMessage struct {
	ID         string `json:"id"`
	From       string `json:"from"` // peer ID
	FromAddr   string `json:"from_address"`
	Kind       string `json:"kind"`
	Name       string `json:"name,omitempty"`
	Size       int64  `json:"size"`
	ReceivedAt string `json:"received_at"`
	Path       string `json:"path,omitempty"` // a file saved to disk
	Text       string `json:"text,omitempty"`
	Body       []byte `json:"body,omitempty"`
}

// InboxList answers `pilot inbox`.
type InboxList struct {
	Count    int            `json:"count"`
	Messages []InboxMessage `json:"messages"`
}

// Deleted answers a deletion.
type Deleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// PublishRequest publishes Data on a network-wide topic (port 1002).
type PublishRequest struct {
	Topic string `json:"topic"`
	Data  string `json:"data"`
}

// Published answers `pilot publish`.
type Published struct {
	Topic string `json:"topic"`
	Size  int    `json:"size"`
	Peers int    `json:"peers"` // topic peers when it was published
}

// TopicEvent is one message received on a subscribed topic.
type TopicEvent struct {
	Topic      string `json:"topic"`
	From       string `json:"from"`
	FromAddr   string `json:"from_address"`
	Data       string `json:"data"`
	ReceivedAt string `json:"received_at"`
}

// LocalEvent is one thing the daemon saw: a trust request, a message, a
// connection...
type LocalEvent struct {
	Kind    string            `json:"kind"`
	Peer    string            `json:"peer,omitempty"`
	Address string            `json:"address,omitempty"`
	At      string            `json:"at"`
	Detail  map[string]string `json:"detail,omitempty"`
}

// TrustRequest is a trust action: "request" (with Message), "approve",
// "reject" or "revoke".
type TrustRequest struct {
	Action  string `json:"action"`
	Address string `json:"address"`
	Message string `json:"message,omitempty"`
}

// TrustRecord is the trust state with one agent.
type TrustRecord struct {
	Address   string `json:"address"`
	PeerID    string `json:"peer_id"`
	State     string `json:"state"`
	Direction string `json:"direction,omitempty"`
	Message   string `json:"message,omitempty"`
	Updated   string `json:"updated"`
}

// TrustList answers `pilot trust list` and `pilot trust pending`.
type TrustList struct {
	Count   int           `json:"count"`
	Records []TrustRecord `json:"records"`
}

// PortPolicyRequest makes a port public or private.
type PortPolicyRequest struct {
	Port   uint16 `json:"port"`
	Public bool   `json:"public"`
}

// PortInfo is one port's state.
type PortInfo struct {
	Port      uint16 `json:"port"`
	Public    bool   `json:"public"`
	Listening bool   `json:"listening"`
	Service   string `json:"service,omitempty"`
}

// PortList answers `pilot ports`.
type PortList struct {
	Ports []PortInfo `json:"ports"`
}

// ExposeRequest serves the local TCP service To on Pilot port Port.
type ExposeRequest struct {
	Port uint16 `json:"port"`
	To   string `json:"to"`
}

// ForwardRequest carries TCP connections to Listen across to To
// ("addr:port" or "hostname:port").
type ForwardRequest struct {
	Listen string `json:"listen"`
	To     string `json:"to"`
}

// Tunnel is one tunnel.
type Tunnel struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Port     uint16 `json:"port"`
	Local    string `json:"local"`
	Remote   string `json:"remote,omitempty"`
	Active   int    `json:"active"`
	Total    uint64 `json:"total"`
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	Created  string `json:"created"`
}

// TunnelList answers `pilot tunnels`.
type TunnelList struct {
	Tunnels []Tunnel `json:"tunnels"`
}

// ProfileRequest changes the node's profile; nil fields stay as they are.
type ProfileRequest struct {
	Hostname *string  `json:"hostname,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	SetTags  bool     `json:"set_tags,omitempty"`
}

// Profile is the node's published profile.
type Profile struct {
	Address  string   `json:"address"`
	Hostname string   `json:"hostname"`
	Tags     []string `json:"tags"`
	Ports    []uint16 `json:"ports"`
	Version  string   `json:"version"`
}

// FindRequest looks for agents by hostname or tag (exactly one).
type FindRequest struct {
	Name string `json:"name,omitempty"`
	Tag  string `json:"tag,omitempty"`
}

// Claimant is one verified agent behind a name or tag.
type Claimant struct {
	Address  string   `json:"address"`
	PeerID   string   `json:"peer_id"`
	Hostname string   `json:"hostname"`
	Tags     []string `json:"tags"`
	Trusted  bool     `json:"trusted"`
	Pinned   bool     `json:"pinned"`
	Score    float64  `json:"score"`
}

// FindResult answers `pilot find`.
type FindResult struct {
	Query     string     `json:"query"`
	Count     int        `json:"count"`
	Claimants []Claimant `json:"claimants"`
}
