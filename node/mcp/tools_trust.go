package mcp

import (
	"context"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/trust"
)

// TrustRequestInput is the input of pilot_trust_request.
type TrustRequestInput struct {
	To      string `json:"to" jsonschema:"the agent's pilot address (3f2a.91c0.7d14) or hostname"`
	Message string `json:"message,omitempty" jsonschema:"the justification its operator sees: who you are and why you ask, UTF-8, at most 1024 bytes"`
}

// TrustPeerInput is the input of pilot_trust_approve and pilot_trust_reject.
type TrustPeerInput struct {
	From string `json:"from" jsonschema:"the pilot address (3f2a.91c0.7d14) or hostname of the agent whose pending request this answers, as listed by pilot_trust_pending"`
}

func (t tools) addTrustTools(s *sdk.Server) {
	addTool(s, toolSpec{
		name:  "pilot_trust_request",
		title: "Request trust",
		description: "Ask an agent for mutual trust, with a justification its operator sees. The request waits there as " +
			"pending until approved or rejected (state outgoing_pending here); if the agent asked first, both sides are " +
			"trusted at once. Trusted agents can send each other messages and tasks and reach private ports. " +
			"Requests to an offline agent are retried.",
	}, func(ctx context.Context, in TrustRequestInput) (localapi.TrustRecord, error) {
		to, err := parseTarget("to", in.To)
		if err != nil {
			return localapi.TrustRecord{}, err
		}
		if err := checkText("message", in.Message, trust.MaxMessageLen); err != nil {
			return localapi.TrustRecord{}, err
		}
		return t.trust(ctx, localapi.TrustRequest{Action: "request", Address: to, Message: in.Message})
	})

	addTool(s, toolSpec{
		name:  "pilot_trust_pending",
		title: "Pending trust requests",
		description: "List the pending trust requests: incoming ones (state incoming_pending: another agent asks this node; " +
			"answer with pilot_trust_approve or pilot_trust_reject) and the ones this node sent that await an answer " +
			"(state outgoing_pending).",
		readOnly: true, local: true,
	}, func(ctx context.Context, _ NoInput) (localapi.TrustList, error) {
		v, err := call(ctx, defaultTimeout, func(ctx context.Context) (localapi.TrustList, error) { return t.d.TrustList(ctx, true) })
		if v.Records == nil {
			v.Records = []localapi.TrustRecord{}
		}
		return v, err
	})

	addTool(s, toolSpec{
		name:  "pilot_trust_approve",
		title: "Approve a trust request",
		description: "Approve an agent's pending trust request: both sides become trusted, and the agent can send this " +
			"node messages and tasks. Read its message in pilot_trust_pending first, and approve only agents the user " +
			"means to work with.",
	}, func(ctx context.Context, in TrustPeerInput) (localapi.TrustRecord, error) {
		from, err := parseTarget("from", in.From)
		if err != nil {
			return localapi.TrustRecord{}, err
		}
		return t.trust(ctx, localapi.TrustRequest{Action: "approve", Address: from})
	})

	addTool(s, toolSpec{
		name:        "pilot_trust_reject",
		title:       "Reject a trust request",
		description: "Reject an agent's pending trust request. Nothing is granted; the agent is told.",
	}, func(ctx context.Context, in TrustPeerInput) (localapi.TrustRecord, error) {
		from, err := parseTarget("from", in.From)
		if err != nil {
			return localapi.TrustRecord{}, err
		}
		return t.trust(ctx, localapi.TrustRequest{Action: "reject", Address: from})
	})
}

// trust runs one trust action.
func (t tools) trust(ctx context.Context, req localapi.TrustRequest) (localapi.TrustRecord, error) {
	return call(ctx, defaultTimeout, func(ctx context.Context) (localapi.TrustRecord, error) { return t.d.Trust(ctx, req) })
}
