package mcp

import (
	"context"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pilot-agents/pilot/node/localapi"
)

// NoInput is the input of a tool that takes no arguments.
type NoInput struct{}

// ResolveInput is the input of pilot_resolve.
type ResolveInput struct {
	Address string `json:"address" jsonschema:"the pilot address to look up: 12 hex digits in three groups, like 3f2a.91c0.7d14"`
}

// FindInput is the input of pilot_find: exactly one of name and tag.
type FindInput struct {
	Name string `json:"name,omitempty" jsonschema:"a hostname to look up: 1 to 63 characters a-z, 0-9 and '-' (give name or tag, not both)"`
	Tag  string `json:"tag,omitempty" jsonschema:"a tag to look up, like forecast: 1 to 32 characters a-z, 0-9 and '-' (give name or tag, not both)"`
}

// PoloInput is the input of pilot_polo.
type PoloInput struct {
	Target string `json:"target,omitempty" jsonschema:"the agent's pilot address (3f2a.91c0.7d14) or hostname; omit it for this node's own score"`
}

func (t tools) addNodeTools(s *sdk.Server) {
	addTool(s, toolSpec{
		name:  "pilot_status",
		title: "Pilot node status",
		description: "Show the local pilot node: its own address and peer ID, network addresses, reachability, NAT type, " +
			"DHT mode, connected peers and uptime (what `pilot status --json` prints). Use it first, to check that the " +
			"daemon runs and is connected, and to learn this agent's own address to give to others.",
		readOnly: true, local: true,
	}, func(ctx context.Context, _ NoInput) (localapi.Status, error) {
		return call(ctx, defaultTimeout, t.d.Status)
	})

	addTool(s, toolSpec{
		name:  "pilot_resolve",
		title: "Resolve a pilot address",
		description: "Look up a pilot address in the DHT: the peer ID and network addresses its signed record announces, " +
			"and whether the peer ID is pinned to the address. Use it to check that an agent exists and is online before " +
			"sending to it. Fails with not_found when nobody holds the address.",
		readOnly: true,
	}, func(ctx context.Context, in ResolveInput) (localapi.Resolved, error) {
		addr, err := parseAddr("address", in.Address)
		if err != nil {
			return localapi.Resolved{}, err
		}
		return call(ctx, defaultTimeout, func(ctx context.Context) (localapi.Resolved, error) {
			return t.d.Resolve(ctx, addr)
		})
	})

	addTool(s, toolSpec{
		name:  "pilot_find",
		title: "Find agents by hostname or tag",
		description: "List the verified agents that claim a hostname (name) or a tag, ranked: pinned or trusted first, " +
			"then Polo score. Use it to turn a name like weather-bot, or a capability tag like forecast, into addresses. " +
			"No claimant fails with not_found; several unranked agents behind one hostname fail with ambiguous, " +
			"and the hint lists their addresses.",
		readOnly: true,
	}, func(ctx context.Context, in FindInput) (localapi.FindResult, error) {
		var req localapi.FindRequest
		var err error
		switch {
		case in.Name != "" && in.Tag != "":
			return localapi.FindResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "give name or tag, not both", "both name and tag are set")
		case in.Tag != "":
			req.Tag, err = parseTag(in.Tag)
		case in.Name != "":
			req.Name, err = parseHostname(in.Name)
		default:
			return localapi.FindResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "give a hostname in name, or a tag in tag", "nothing to find")
		}
		if err != nil {
			return localapi.FindResult{}, err
		}
		v, err := call(ctx, defaultTimeout, func(ctx context.Context) (localapi.FindResult, error) { return t.d.Find(ctx, req) })
		if v.Claimants == nil {
			v.Claimants = []localapi.Claimant{}
		}
		return v, err
	})

	addTool(s, toolSpec{
		name:  "pilot_polo",
		title: "Polo reputation score",
		description: "Show an agent's Polo score in this node's view (default: this node's own): reputation earned by " +
			"completing tasks for others, 0 to 1000, about 393 for an average participant, with the attestations it " +
			"derives from. Use it to judge whether to hand an agent a task or to trust it.",
		readOnly: true,
	}, func(ctx context.Context, in PoloInput) (localapi.PoloInfo, error) {
		target := ""
		if in.Target != "" {
			var err error
			if target, err = parseTarget("target", in.Target); err != nil {
				return localapi.PoloInfo{}, err
			}
		}
		return call(ctx, defaultTimeout, func(ctx context.Context) (localapi.PoloInfo, error) { return t.d.Polo(ctx, target) })
	})
}
