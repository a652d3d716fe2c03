package harness

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pilot-agents/pilot/testnet/analysis"
	"github.com/pilot-agents/pilot/testnet/plot"
)

// Files of the report folder.
const (
	FileReportJSON = "report.json"
	FileReportMD   = "report.md"
	FileEdges      = "edges.csv"
	FileAgents     = "agents.csv"
	FileCCDF       = "degree_ccdf.png"
	FileAlpha      = "alpha_over_time.png"
	FilePolo       = "polo_vs_degree.png"
	FileKCore      = "kcore_layers.png"
	FileAttachment = "attachment.png"
)

func (r *run) path(file string) string { return filepath.Join(r.cfg.OutDir, file) }

// write draws the plots and writes edges.csv and agents.csv. A plot that
// fails is noted in the report; a file that cannot be written is an
// error.
func (r *run) write(edges []analysis.Edge, polo poloView) error {
	r.plots(polo)
	if err := writeFile(r.path(FileEdges), func(w *bufio.Writer) error { return analysis.WriteEdges(w, edges) }); err != nil {
		return err
	}
	r.rep.Files = append(r.rep.Files, FileEdges)
	if err := writeFile(r.path(FileAgents), func(w *bufio.Writer) error { return r.writeAgents(w, polo) }); err != nil {
		return err
	}
	r.rep.Files = append(r.rep.Files, FileAgents, FileReportMD, FileReportJSON)
	return nil
}

// writeReport writes report.md and report.json.
func (r *run) writeReport() error {
	if err := writeFile(r.path(FileReportMD), func(w *bufio.Writer) error { return writeMarkdown(w, r.rep) }); err != nil {
		return err
	}
	return writeFile(r.path(FileReportJSON), func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r.rep)
	})
}

// plots draws the five figures; each failure becomes a note.
func (r *run) plots(polo poloView) {
	rep := r.rep
	arm := string(r.cfg.Selection)
	try := func(file string, err error) {
		if err != nil {
			r.note("plot %s: %v", file, err)
			return
		}
		rep.Files = append(rep.Files, file)
	}
	degs := r.rec.degrees()
	pg := rep.PartnerGraph
	partner := plot.Series{Name: "partner graph (" + arm + ")", Degrees: degs}
	if rep.PartnerGraphError == "" && pg.Alpha > 1 && pg.Xmin >= 1 {
		partner.Alpha, partner.Xmin = pg.Alpha, pg.Xmin
	}
	series := []plot.Series{partner}
	if len(r.lastConnCounts) > 0 {
		series = append(series, plot.Series{Name: "host connections", Degrees: r.lastConnCounts})
	}
	try(FileCCDF, plot.DegreeCCDF(r.path(FileCCDF),
		fmt.Sprintf("Degree distribution, %d nodes, %s selection", r.cfg.Nodes, arm), series...))

	var pts []plot.AlphaPoint
	for _, s := range rep.AlphaOverTime {
		if s.Error == "" && s.Alpha > 0 {
			pts = append(pts, plot.AlphaPoint{Minutes: s.Minutes, Alpha: s.Alpha, Lo: s.Lo, Hi: s.Hi})
		}
	}
	try(FileAlpha, plot.AlphaOverTime(r.path(FileAlpha),
		"Power-law exponent of the partner degrees over time (± 1 s.e.)", map[string][]plot.AlphaPoint{arm: pts}))

	var sp []plot.ScorePoint
	if len(polo.observers) > 0 {
		for i, a := range r.wl.agents {
			if !a.observer {
				sp = append(sp, plot.ScorePoint{Degree: degs[i], Polo: int(math.Round(polo.mean[i])), Sybil: a.sybil})
			}
		}
	}
	try(FilePolo, plot.ScoreVsDegree(r.path(FilePolo),
		fmt.Sprintf("Polo seen by %d honest observers vs partner degree (%s)", len(polo.observers), arm), sp))

	try(FileKCore, plot.KCoreLayers(r.path(FileKCore), "k-core shells of the partner graph ("+arm+")", pg.KCoreLayers))

	var ap []plot.AttachmentPoint
	for _, p := range r.attachmentPoints() {
		ap = append(ap, plot.AttachmentPoint{Degree: p.Degree, Gained: p.Gained})
	}
	at := rep.Attachment
	beta, ci := at.Beta, at.CI
	if at.Error != "" {
		beta, ci = math.NaN(), [2]float64{}
	}
	try(FileAttachment, plot.Attachment(r.path(FileAttachment),
		fmt.Sprintf("New partners by degree, minute %.1f to %.1f (%s)", at.FromMinutes, at.ToMinutes, arm), ap, beta, ci))
}

// writeAgents writes one line per agent.
func (r *run) writeAgents(w *bufio.Writer, polo poloView) error {
	cw := csv.NewWriter(w)
	degs := r.rec.degrees()
	r.rec.mu.Lock()
	worked := append([]int(nil), r.rec.worked...)
	r.rec.mu.Unlock()
	if err := cw.Write([]string{"index", "peer_id", "address", "sybil", "observer", "quality", "tags",
		"partners", "tasks_worked", "acts", "polo_observed", "restarts"}); err != nil {
		return err
	}
	for i, a := range r.wl.agents {
		m := r.net.members[i]
		m.mu.RLock()
		restarts := m.restarts
		m.mu.RUnlock()
		pv := ""
		if len(polo.observers) > 0 {
			pv = strconv.FormatFloat(polo.mean[i], 'f', 1, 64)
		}
		if err := cw.Write([]string{strconv.Itoa(i), m.id.String(), m.addr.String(), strconv.FormatBool(a.sybil),
			strconv.FormatBool(a.observer), strconv.FormatFloat(a.quality, 'f', 3, 64), strings.Join(a.tags, ";"),
			strconv.Itoa(degs[i]), strconv.Itoa(worked[i]), strconv.Itoa(int(a.acts.Load())), pv, strconv.Itoa(restarts)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeFile writes path through a buffered writer, atomically (a
// temporary file renamed over it).
func writeFile(path string, f func(w *bufio.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("harness: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	if err = f(w); err != nil {
		return fmt.Errorf("harness: write %s: %w", path, err)
	}
	if err = errors.Join(w.Flush(), tmp.Chmod(0o644), tmp.Close()); err != nil {
		return fmt.Errorf("harness: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("harness: write %s: %w", path, err)
	}
	return nil
}
