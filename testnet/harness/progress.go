package harness

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line progress bar: redrawn in place (\r) at most
// every 250 ms on a terminal, otherwise written as a new line at most
// every 10 seconds. A nil *progress draws nothing. Its methods are safe
// for concurrent use.
type progress struct {
	w        io.Writer
	terminal bool

	mu    sync.Mutex
	last  time.Time
	width int // of the line drawn last, on a terminal
	open  bool
}

func newProgress(w io.Writer, terminal bool) *progress {
	if w == nil {
		return nil
	}
	return &progress{w: w, terminal: terminal}
}

// show draws phase with a bar of done/total and the text, unless the last
// drawing is too recent (force draws anyway).
func (p *progress) show(force bool, phase string, done, total float64, text string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	every := 10 * time.Second
	if p.terminal {
		every = 250 * time.Millisecond
	}
	if !force && time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	line := fmt.Sprintf("%-8s %s %s", phase, bar(done, total, 24), text)
	if !p.terminal {
		fmt.Fprintln(p.w, line)
		return
	}
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.width = len(line)
	p.open = true
}

// end finishes the current line on a terminal.
func (p *progress) end() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && p.open {
		fmt.Fprintln(p.w)
		p.open, p.width = false, 0
	}
}

// note writes a line of its own (ending a bar in progress first).
func (p *progress) note(format string, args ...any) {
	if p == nil {
		return
	}
	p.end()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// bar renders [#####-----] for done/total.
func bar(done, total float64, width int) string {
	f := 0.0
	if total > 0 {
		f = min(1, max(0, done/total))
	}
	n := int(f * float64(width))
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

// clock formats a duration as 1h02m03s / 2m03s / 3s.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
