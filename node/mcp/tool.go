package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pilot-agents/pilot/node/localapi"
)

// maxArguments bounds the JSON arguments of one tool call. The largest
// input (pilot_send) carries at most maxInlineText bytes, escaped.
const maxArguments = 1 << 20

// typeSchemas overrides the schemas jsonschema.For would infer for types
// that marshal to something other than their Go shape.
var typeSchemas = map[reflect.Type]*jsonschema.Schema{
	reflect.TypeFor[json.RawMessage](): {Description: "any JSON value"},
	reflect.TypeFor[[]byte]():          {Type: "string", ContentEncoding: "base64"},
}

// ErrorBody is the structured content of a failed call: the CLI's error
// envelope without "status". All three fields are always present.
type ErrorBody struct {
	Code    string `json:"code" jsonschema:"the error code, as in the CLI: invalid_argument, not_found, ambiguous, not_running, connection_failed, timeout, trust_required or internal"`
	Message string `json:"message" jsonschema:"what went wrong"`
	Hint    string `json:"hint" jsonschema:"what to do next"`
}

// errorSchema is the schema of ErrorBody.
var errorSchema = mustSchema[ErrorBody]()

// toolSpec describes one tool besides its handler.
type toolSpec struct {
	name, title, description string
	readOnly                 bool // changes nothing, here or elsewhere
	local                    bool // asks only the local daemon, not the network
}

// addTool registers a tool whose input is In and whose structured output
// is Out. The handler gets the decoded, schema-checked input; an error it
// returns becomes a tool error result carrying {code, message, hint}.
//
// The SDK's typed AddTool would turn errors into plain text, so this
// builds the raw handler itself. The output schema admits both outcomes:
// the data of a success or the error object (clients check structured
// content against it even on errors).
func addTool[In, Out any](s *sdk.Server, spec toolSpec, h func(context.Context, In) (Out, error)) {
	in := mustSchema[In]()
	resolved, err := in.Resolve(nil)
	if err != nil {
		panic(fmt.Sprintf("mcp: tool %s: input schema: %v", spec.name, err)) // a programming error
	}
	out := &jsonschema.Schema{Type: "object", AnyOf: []*jsonschema.Schema{mustSchema[Out](), errorSchema.CloneSchemas()}}
	openWorld := !spec.local
	destructive := false
	t := &sdk.Tool{
		Name:         spec.name,
		Title:        spec.title,
		Description:  spec.description,
		InputSchema:  in,
		OutputSchema: out,
		Annotations: &sdk.ToolAnnotations{
			Title:           spec.title,
			ReadOnlyHint:    spec.readOnly,
			DestructiveHint: &destructive,
			OpenWorldHint:   &openWorld,
		},
	}
	s.AddTool(t, func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		var raw json.RawMessage
		if req != nil && req.Params != nil {
			raw = req.Params.Arguments
		}
		v, err := decodeInput[In](raw, resolved)
		if err != nil {
			return errorResult(err), nil
		}
		data, err := h(ctx, v)
		if err != nil {
			return errorResult(err), nil
		}
		return okResult(data)
	})
}

// mustSchema infers the JSON schema of T.
func mustSchema[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: typeSchemas})
	if err != nil {
		panic(fmt.Sprintf("mcp: schema of %T: %v", *new(T), err)) // a programming error
	}
	return s
}

// decodeInput checks raw against the input schema and decodes it. Missing
// or null arguments are the empty object.
func decodeInput[In any](raw json.RawMessage, schema *jsonschema.Resolved) (In, error) {
	var v In
	if len(raw) > maxArguments {
		return v, localapi.Errorf(localapi.CodeInvalidArgument, "send large payloads with the `pilot send --file` command instead",
			"the arguments are %d bytes; at most %d are accepted", len(raw), maxArguments)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return v, invalidInput(err)
	}
	if err := schema.Validate(generic); err != nil {
		return v, invalidInput(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, invalidInput(err)
	}
	return v, nil
}

// invalidInput is the error for arguments that do not fit the schema.
func invalidInput(err error) *localapi.Error {
	return localapi.Errorf(localapi.CodeInvalidArgument, "check the arguments against the tool's input schema (tools/list)",
		"invalid arguments: %v", err)
}

// okResult returns data as structured content, and as JSON text for
// clients that read only text.
func okResult(data any) (*sdk.CallToolResult, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("mcp: encode the result: %w", err)
	}
	return &sdk.CallToolResult{
		Content:           []sdk.Content{&sdk.TextContent{Text: string(b)}},
		StructuredContent: json.RawMessage(b),
	}, nil
}

// errorResult turns err into a tool error result: {code, message, hint} as
// text and as structured content, with the CLI's codes and hints.
func errorResult(err error) *sdk.CallToolResult {
	e := localapi.AsError(err)
	body := ErrorBody{Code: e.Code, Message: e.Message, Hint: e.Hint}
	if body.Code == "" {
		body.Code = localapi.CodeInternal
	}
	b, merr := json.Marshal(body)
	if merr != nil { // cannot happen: three strings
		b = []byte(`{"code":"internal","message":"encode the error","hint":""}`)
	}
	return &sdk.CallToolResult{
		IsError:           true,
		Content:           []sdk.Content{&sdk.TextContent{Text: string(b)}},
		StructuredContent: json.RawMessage(b),
	}
}
