package platform

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// docTable is the table of platforms as docs/worker.md shows it: the
// platforms nmp runs first, then the others, each group by name.
func docTable(t Table) string {
	var b strings.Builder
	b.WriteString("| platform | units | `{system}` | nmp system | chip variable and default | usage charged | Python 2 scripts | runs here |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, runs := range []bool{true, false} {
		for _, name := range t.Names() {
			p, _ := t.Lookup(name)
			if (p.Unavailable == "") != runs {
				continue
			}
			chip, py2, here := "", "no", "yes"
			if p.ChipEnv != "" {
				chip = fmt.Sprintf("`%s=%s`", p.ChipEnv, p.DefaultChip)
			}
			if p.Python2 {
				py2 = "converted"
			}
			if !runs {
				here = "no"
			}
			_, rule := p.Usage(Used{})
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s | %s | %s | %s |\n", p.Name, p.Units, p.Backend, p.System, chip, rule, py2, here)
		}
	}
	return b.String()
}

// TestDocTable holds docs/worker.md's table of platforms to the rows.
func TestDocTable(t *testing.T) {
	doc, err := os.ReadFile("../docs/worker.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := docTable(Default()); !strings.Contains(string(doc), want) {
		t.Fatalf("docs/worker.md does not show the platform table as it is; it should read:\n\n%s", want)
	}
}
