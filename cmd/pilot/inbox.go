package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

func newInboxCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "List the messages other agents sent to this node",
		Long: `List the messages in this node's inbox, oldest first: texts, JSON values,
binary blobs and files that other agents sent with ` + "`pilot send`" + `. Bodies are
not listed; ` + "`pilot inbox get <id>`" + ` prints one message with its body and
` + "`pilot inbox rm <id>`" + ` deletes it.`,
		Example:     "  pilot inbox\n  pilot inbox --json",
		Annotations: daemonAnnotations("", localapi.InboxList{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).Inbox)
			if err != nil {
				return err
			}
			if v.Messages == nil {
				v.Messages = []localapi.InboxMessage{}
			}
			return a.emit(v, func(w io.Writer) { writeInbox(w, v) })
		}),
	}
	cmd.AddCommand(newInboxGetCmd(a), newInboxRmCmd(a))
	return cmd
}

func newInboxGetCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "get <id>",
		Short: "Print one inbox message with its body",
		Long: `Print one message: its headers, then its body. Text and JSON bodies are
printed as text ("text" in --json). A binary body is base64 in --json
("body") and not printed as text; a received file is saved under the
daemon's home ("path"). --out PATH writes the body (or the file) to PATH,
created with mode 0600 or overwritten; --out - writes only the raw body to
stdout (not with --json).`,
		Example:     "  pilot inbox get 1849a1c3e0f2b7d4a9c01e5f\n  pilot inbox get 1849a1c3e0f2b7d4a9c01e5f --json\n  pilot inbox get 1849a1c3e0f2b7d4a9c01e5f --out ./report.pdf",
		Annotations: daemonAnnotations("id: message ID, as listed by `pilot inbox`", localapi.InboxMessage{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if id == "" {
				return usageError(cmd, "the message ID is empty")
			}
			if cmd.Flags().Changed("out") {
				if err := checkOut(out, a.json()); err != nil {
					return err
				}
			}
			m, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.InboxMessage, error) {
				return c.InboxGet(ctx, id)
			})
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("out") {
				return a.emit(m, func(w io.Writer) { writeInboxMessage(w, m) })
			}
			if out == "-" {
				if err := copyBody(a.stdout, m); err != nil {
					return localapi.Errorf(localapi.CodeInternal, "is stdout closed?", "write the body: %v", err)
				}
				return nil
			}
			n, err := saveBody(out, m)
			if err != nil {
				return err
			}
			return a.emit(m, func(w io.Writer) {
				writeInboxHeaders(w, m)
				fmt.Fprintf(w, "\nbody written to %s (%d %s)\n", out, n, plural(int(n), "byte", "bytes"))
			})
		}),
	}
	cmd.Flags().StringVar(&out, "out", "", "write the body to this file (mode 0600, overwritten if it exists); - for stdout")
	return cmd
}

// checkOut validates --out before the daemon is asked: its folder must
// exist and it must not be a folder itself.
func checkOut(out string, jsonMode bool) error {
	if out == "-" {
		if jsonMode {
			return localapi.Errorf(localapi.CodeInvalidArgument, "drop --json, or give --out a file",
				"--out - writes the raw body to stdout, which --json reserves for the envelope")
		}
		return nil
	}
	if out == "" {
		return localapi.Errorf(localapi.CodeInvalidArgument, "give a file path, or - for stdout", "--out needs a path")
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return localapi.Errorf(localapi.CodeInvalidArgument, "give a file path, not a folder", "--out %s is a folder", out)
	}
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return localapi.Errorf(localapi.CodeInvalidArgument, "create the folder first", "--out %s: folder %s does not exist", out, dir)
	}
	return nil
}

// copyBody writes m's body to w: the text of text and JSON messages, the
// bytes of binary messages and inline files, the contents of a file saved
// on disk.
func copyBody(w io.Writer, m localapi.InboxMessage) error {
	switch {
	case m.Kind == "text" || m.Kind == "json":
		_, err := io.WriteString(w, m.Text)
		return err
	case m.Body != nil || m.Path == "":
		_, err := w.Write(m.Body)
		return err
	}
	f, err := os.Open(m.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// saveBody writes m's body to the file out and returns its size.
func saveBody(out string, m localapi.InboxMessage) (int64, error) {
	if m.Path != "" {
		if src, err := os.Stat(m.Path); err == nil {
			if dst, err := os.Stat(out); err == nil && os.SameFile(src, dst) {
				return 0, localapi.Errorf(localapi.CodeInvalidArgument, "give another --out path",
					"--out %s is the received file itself", out)
			}
		}
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, localapi.Errorf(localapi.CodeInvalidArgument, "give a path you can write", "--out: %v", err)
	}
	cw := &countingWriter{w: f}
	err = copyBody(cw, m)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cw.n, localapi.Errorf(localapi.CodeInternal, "check the disk and the path", "write %s: %v", out, err)
	}
	return cw.n, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newInboxRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "rm <id>",
		Short:       "Delete one inbox message (and its received file)",
		Example:     "  pilot inbox rm 1849a1c3e0f2b7d4a9c01e5f\n  pilot inbox rm 1849a1c3e0f2b7d4a9c01e5f --json",
		Annotations: daemonAnnotations("id: message ID, as listed by `pilot inbox`", localapi.Deleted{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if id == "" {
				return usageError(cmd, "the message ID is empty")
			}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.Deleted, error) {
				return c.InboxDelete(ctx, id)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				if v.Deleted {
					fmt.Fprintf(w, "deleted %s\n", v.ID)
				} else {
					fmt.Fprintf(w, "%s was not in the inbox\n", v.ID)
				}
			})
		}),
	}
}
