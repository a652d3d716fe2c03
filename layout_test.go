package pilot

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"
)

// modulePath is this module's import path, as in go.mod.
const modulePath = "github.com/pilot-agents/pilot"

// allowedImports is the dependency rule from DESIGN, written down as a table:
// cmd → node → {dht, gossip, reputation} → addressing, with testnet beside
// them. The key is a top-level directory ("" is the doc-only module root);
// the value lists the other top-level packages it may import. On top of the
// table: a directory may import its own sub-packages, everyone but the root
// may import internal, and _test.go files may also import testnet (never
// cmd). A new top-level directory with Go code fails TestImportDirection
// until it is added here, deliberately.
var allowedImports = map[string][]string{
	"":           nil,
	"addressing": nil,
	"dht":        {"addressing"},
	"reputation": {"addressing"},
	"gossip":     {"addressing", "reputation"},
	"node":       {"addressing", "dht", "gossip", "reputation"},
	"cmd":        {"addressing", "dht", "gossip", "node", "reputation", "testnet"},
	"testnet":    {"addressing", "dht", "gossip", "node", "reputation"},
	"internal":   nil,
}

// goFile is one parsed .go file of the module.
type goFile struct {
	rel  string // slash-separated path relative to the root
	dir  string // slash-separated directory relative to the root ("" = root)
	test bool
	ast  *ast.File
	fset *token.FileSet
}

// topLevel returns the top-level component of a slash-separated path
// relative to the module root ("" for the root itself).
func topLevel(rel string) string {
	top, _, _ := strings.Cut(rel, "/")
	return top
}

// parseModule parses the package clause, imports and doc comments of every
// .go file under root. Like the go command, it skips directories whose names
// start with "." or "_", testdata, vendor and nested modules. Function bodies
// are not parsed, so half-written packages elsewhere do not break it.
func parseModule(root string) ([]goFile, error) {
	var files []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			_, err := os.Stat(filepath.Join(path, "go.mod"))
			if path != root && (err == nil || name[0] == '.' || name[0] == '_' || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || !d.Type().IsRegular() {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path) // cannot fail: path is under root
		rel = filepath.ToSlash(rel)
		dir := strings.TrimSuffix(strings.TrimSuffix(rel, d.Name()), "/")
		files = append(files, goFile{rel: rel, dir: dir, test: strings.HasSuffix(rel, "_test.go"), ast: f, fset: fset})
		return nil
	})
	return files, err
}

// checkImportDirection reports every import between this module's packages
// under root that breaks allowedImports, and every top-level directory with
// Go code that the table does not know.
func checkImportDirection(root string) ([]string, error) {
	files, err := parseModule(root)
	if err != nil {
		return nil, err
	}
	var problems []string
	unknown := map[string]bool{}
	for _, f := range files {
		from := topLevel(f.dir)
		allowed, known := allowedImports[from]
		if !known {
			if !unknown[from] {
				unknown[from] = true
				problems = append(problems, from+"/: unknown top-level directory "+from+
					" has Go code; add it to allowedImports in layout_test.go deliberately")
			}
			continue
		}
		for _, imp := range f.ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			var to string
			switch {
			case path == modulePath:
				to = "" // the doc-only root; nobody has a reason to import it
			case strings.HasPrefix(path, modulePath+"/"):
				to = topLevel(strings.TrimPrefix(path, modulePath+"/"))
			default:
				continue // standard library or third-party
			}
			if rule := importRule(from, to, allowed, f.test); rule != "" {
				pos := f.fset.Position(imp.Pos())
				problems = append(problems, f.rel+":"+strconv.Itoa(pos.Line)+": imports "+path+": "+rule)
			}
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// importRule returns "" if a file in top-level package from may import
// top-level package to, and otherwise the rule the import breaks.
func importRule(from, to string, allowed []string, test bool) string {
	_, known := allowedImports[to]
	switch {
	case to == from && from != "":
		return ""
	case to == "cmd":
		return "only cmd may import cmd, not even from tests"
	case to == "testnet" && test:
		return ""
	case to == "testnet" && !slices.Contains(allowed, "testnet"):
		return "only cmd and _test.go files may import testnet"
	case from == "":
		return "the module root package imports nothing of this module"
	case to == "internal":
		return ""
	case from == "internal":
		return "internal packages import only the standard library and third-party modules"
	case to == "":
		return "nothing may import the doc-only module root package"
	case !known:
		return "unknown top-level package " + to + " (add it to allowedImports deliberately)"
	case slices.Contains(allowed, to):
		return ""
	case len(allowed) == 0:
		return from + " must not import other packages of this module"
	default:
		return from + " may import only " + strings.Join(allowed, ", ") + " of this module"
	}
}

// checkPackageDocs reports every directory under root that holds non-test
// .go files none of which carries a package doc comment ("// Package name
// ...", or "// Command name ..." for package main).
func checkPackageDocs(root string) ([]string, error) {
	files, err := parseModule(root)
	if err != nil {
		return nil, err
	}
	documented := map[string]bool{}
	for _, f := range files {
		if f.test {
			continue
		}
		text, name := strings.TrimSpace(f.ast.Doc.Text()), f.ast.Name.Name
		ok := hasWordPrefix(text, "Package "+name) ||
			(name == "main" && strings.HasPrefix(text, "Command ") && len(strings.Fields(text)) > 1)
		documented[f.dir] = documented[f.dir] || ok
	}
	var problems []string
	for dir, ok := range documented {
		if !ok {
			if dir == "" {
				dir = "."
			}
			problems = append(problems, dir+": no package doc comment (want \"// Package <name> ...\""+
				" directly above the package clause of a non-test file; package main may use \"// Command <name> ...\")")
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// hasWordPrefix reports whether s starts with prefix followed by a non-word
// character or the end of s, so "Package dhtx" does not document dht.
func hasWordPrefix(s, prefix string) bool {
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	rest := []rune(s[len(prefix):])
	return len(rest) == 0 || !(unicode.IsLetter(rest[0]) || unicode.IsDigit(rest[0]) || rest[0] == '_')
}

// TestImportDirection checks the real tree, then synthetic trees that prove
// the checker can fail.
func TestImportDirection(t *testing.T) {
	checkReal(t, checkImportDirection)
	checkSynthetic(t, checkImportDirection, []treeCase{
		{"clean", "", nil, ""},
		{"addressing imports node", "addressing/x.go", goSrc("addressing", "", "node"),
			"addressing/x.go:3: imports " + modulePath + "/node: addressing must not import"},
		{"dht imports testnet", "dht/y.go", goSrc("dht", "", "testnet/foo"),
			"dht/y.go:3: imports " + modulePath + "/testnet/foo: only cmd and _test.go"},
		{"gossip imports node", "gossip/z.go", goSrc("gossip", "", "node"),
			"gossip/z.go:3: imports " + modulePath + "/node: gossip may import only addressing, reputation"},
		{"test imports cmd", "node/n_test.go", goSrc("node", "", "cmd/pilot"),
			"node/n_test.go:3: imports " + modulePath + "/cmd/pilot: only cmd may import cmd"},
		{"internal imports ours", "internal/util/w.go", goSrc("util", "", "addressing"),
			"internal/util/w.go:3: imports " + modulePath + "/addressing: internal packages"},
		{"root imports ours", "root.go", goSrc("pilot", "", "internal/util"),
			"root.go:3: imports " + modulePath + "/internal/util: the module root package imports nothing"},
		{"unknown top-level dir", "frobnicate/f.go", goSrc("frobnicate", "// Package frobnicate.\n"),
			"frobnicate/: unknown top-level directory"},
		{"import of unknown package", "node/u.go", goSrc("node", "", "frobnicate"),
			"node/u.go:3: imports " + modulePath + "/frobnicate: unknown top-level package"},
	})
}

// TestPackageDocs checks the real tree, then synthetic trees that prove the
// checker can fail.
func TestPackageDocs(t *testing.T) {
	checkReal(t, checkPackageDocs)
	checkSynthetic(t, checkPackageDocs, []treeCase{
		{"clean", "", nil, ""},
		{"package without doc", "gossip/g.go", goSrc("gossip", "// gossip spreads messages.\n"), "gossip: no package doc"},
		{"doc names another package", "dht/d.go", goSrc("dht", "// Package dhtx finds peers.\n"), "dht: no package doc"},
		{"main without doc", "cmd/pilot/main.go", goSrc("main", "// pilot is the CLI.\n"), "cmd/pilot: no package doc"},
		{"root without doc", "doc.go", goSrc("pilot", ""), ".: no package doc"},
	})
}

func checkReal(t *testing.T, check func(string) ([]string, error)) {
	t.Helper()
	problems, err := check(".") // go test runs in the module root
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("%d problem(s) in this module:\n\t%s", len(problems), strings.Join(problems, "\n\t"))
	}
}

// goSrc returns a Go file of package name with the given doc comment and
// blank imports of this module's packages.
func goSrc(name, doc string, imports ...string) *fstest.MapFile {
	s := doc + "package " + name + "\n\n"
	for _, imp := range imports {
		s += "import _ \"" + modulePath + "/" + imp + "\"\n"
	}
	return &fstest.MapFile{Data: []byte(s)}
}

// cleanTree follows every rule; each treeCase adds or replaces one file.
var cleanTree = fstest.MapFS{
	"doc.go":                   goSrc("pilot", "// Package pilot is the root.\n"),
	"addressing/a.go":          goSrc("addressing", "// Package addressing names agents.\n", "internal/util"),
	"dht/d.go":                 goSrc("dht", "// Package dht finds peers.\n", "addressing"),
	"dht/badgerds/b.go":        goSrc("badgerds", "// Package badgerds stores records.\n", "dht", "addressing"),
	"dht/d_test.go":            goSrc("dht_test", "", "dht", "testnet/natlab"),
	"gossip/g.go":              goSrc("gossip", "// Package gossip spreads messages.\n", "reputation", "addressing"),
	"reputation/r.go":          goSrc("reputation", "/* Package reputation scores peers. */\n", "addressing"),
	"node/n.go":                goSrc("node", "// Package node runs a node.\n", "dht", "gossip", "reputation"),
	"node/localapi/l.go":       goSrc("localapi", "// Package localapi serves agents.\n", "node"),
	"cmd/pilot/main.go":        goSrc("main", "// Command pilot is the CLI.\n", "node", "testnet"),
	"cmd/other/main.go":        goSrc("main", "// Package main is another tool.\n", "cmd/pilot"),
	"testnet/t.go":             goSrc("testnet", "// Package testnet builds networks.\n", "node", "testnet/natlab"),
	"testnet/natlab/n.go":      goSrc("natlab", "// Package natlab simulates NATs.\n"),
	"internal/util/u.go":       goSrc("util", "// Package util helps.\n"),
	"internal/util/u_test.go":  goSrc("util", ""),
	"testdata/bad/x.go":        goSrc("bad", "", "cmd"), // skipped, like the
	".hidden/x.go":             goSrc("x", "", "cmd"),   // go command does
	"addressing/vendor/v/v.go": goSrc("v", "", "node"),
	"frob/go.mod":              &fstest.MapFile{Data: []byte("module example.com/frob\n")},
	"frob/f.go":                goSrc("f", "", "node"), // a nested module
}

type treeCase struct {
	name string
	file string // added to cleanTree; "" adds nothing
	code *fstest.MapFile
	want string // a substring of the only problem; "" wants none
}

func checkSynthetic(t *testing.T, check func(string) ([]string, error), cases []treeCase) {
	for _, tc := range cases {
		t.Run("synthetic/"+tc.name, func(t *testing.T) {
			root, tree := t.TempDir(), maps.Clone(cleanTree)
			if tc.file != "" {
				tree[tc.file] = tc.code
			}
			if err := os.CopyFS(root, tree); err != nil {
				t.Fatal(err)
			}
			got, err := check(root)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && len(got) == 0 || tc.want != "" && len(got) == 1 && strings.Contains(got[0], tc.want) {
				return
			}
			t.Errorf("got %d problem(s):\n\t%s\nwant exactly one containing %q", len(got), strings.Join(got, "\n\t"), tc.want)
		})
	}
}
