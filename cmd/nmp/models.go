package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

const modelsUsage = `
usage: nmp models [-system NAME] [MODEL]

Lists the cell types, spike sources, synapse types, plasticity rules and
current sources a system offers (the reference: PyNN's standard library),
with PyNN's names. With a MODEL, prints its parameters with their defaults
and units (and ranges, for hardware parameters), its state variables and
what it can record.

Examples:

	nmp models
	nmp models IF_cond_exp
	nmp models -system brainscales2 HXNeuron
`

func runModels(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "models", modelsUsage)
	sysName := fs.String("system", "reference", "the system whose models to list: "+strings.Join(system.Names(), ", "))
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	sys, err := system.Lookup(*sysName)
	if err != nil {
		return usagef("%v", err)
	}
	cat := sys.Catalog()
	w := env.Stdout
	if len(pos) == 0 {
		var cells, sources []string
		for _, name := range cat.CellNames() {
			if cat.Cells[name].Source {
				sources = append(sources, name)
			} else {
				cells = append(cells, name)
			}
		}
		list := func(title string, names []string, desc func(string) string) {
			fmt.Fprintf(w, "%s:\n", title)
			tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
			for _, n := range names {
				fmt.Fprintf(tw, "  %s\t%s\n", n, desc(n))
			}
			tw.Flush()
			fmt.Fprintln(w)
		}
		list("Cell types", cells, func(n string) string { return cat.Cells[n].Description })
		list("Spike sources", sources, func(n string) string { return cat.Cells[n].Description })
		list("Synapse types", cat.SynapseNames(), func(n string) string { return cat.Synapses[n].Description })
		list("STDP timing rules", keys(cat.TimingRules), func(string) string { return "" })
		list("STDP weight dependences", keys(cat.WeightRules), func(string) string { return "" })
		list("Current sources", keys(cat.CurrentSources), func(n string) string { return cat.CurrentSources[n].Description })
		fmt.Fprintln(w, "Run 'nmp models NAME' for the parameters of one of them.")
		return nil
	}
	name := pos[0]
	switch {
	case cat.Cells[name] != nil:
		c := cat.Cells[name]
		fmt.Fprintf(w, "%s: %s\n\nParameters:\n", c.Name, c.Description)
		params(w, c.Params)
		if len(c.State) > 0 {
			fmt.Fprintln(w, "\nState variables (initial values):")
			params(w, c.State)
		}
		fmt.Fprintf(w, "\nRecordable: %s\n", strings.Join(c.Recordables, ", "))
		if len(c.Receptors) > 0 {
			unit := "nA"
			switch {
			case c.ConductanceBased:
				unit = "uS"
			case c.VoltageJump:
				unit = "mV"
			}
			fmt.Fprintf(w, "Receptor types: %s (weights in %s)\n", strings.Join(c.Receptors, ", "), unit)
		}
	case cat.Synapses[name] != nil:
		s := cat.Synapses[name]
		fmt.Fprintf(w, "%s: %s\n\nParameters:\n", s.Name, s.Description)
		params(w, s.Params)
		if len(s.State) > 0 {
			fmt.Fprintf(w, "\nOf these, the initial state of each connection (PyNN's Projection.initialize): %s\n", strings.Join(s.State, ", "))
		}
	case cat.TimingRules[name] != nil:
		params(w, cat.TimingRules[name].Params)
	case cat.WeightRules[name] != nil:
		params(w, cat.WeightRules[name].Params)
	case cat.CurrentSources[name] != nil:
		c := cat.CurrentSources[name]
		fmt.Fprintf(w, "%s: %s\n\nParameters:\n", c.Name, c.Description)
		params(w, c.Params)
	default:
		return usagef("no model named %q; 'nmp models' lists them", name)
	}
	return nil
}

func params(w io.Writer, ps []network.Param) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, p := range ps {
		def := fmt.Sprintf("%g", p.Default)
		if p.Kind == network.Sequence {
			def = fmt.Sprintf("%v", p.DefaultSeq)
			if p.DefaultSeq == nil {
				def = "[]"
			}
		}
		rng := ""
		if p.Max > p.Min {
			rng = fmt.Sprintf("%g..%g", p.Min, p.Max)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Name, def, p.Units, rng)
	}
	tw.Flush()
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
