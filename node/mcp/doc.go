// Package mcp serves a pilot daemon to AI models as a Model Context
// Protocol (MCP) server: `pilot mcp` runs it over stdio, so an MCP client
// (Claude Desktop, Claude Code, Cursor, VS Code…) can look agents up, send
// and read messages, handle trust, submit tasks and read Polo scores.
//
// Each tool maps to one call of the daemon's local API (node/localapi). A
// tool's structured output is the data `pilot <command> --json` prints; a
// failure is a tool error result whose text and structured content are
// {"code","message","hint"} with the CLI's error codes. Inputs are checked
// here, before the daemon is asked, and what is read back (inbox bodies,
// task values) is bounded. See docs/mcp.md.
package mcp
