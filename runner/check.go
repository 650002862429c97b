package runner

import (
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"ecli/runner/decode"
)

// This file checks a package's metadata against its BPF object: every value the runner
// takes from the JSON that the ELF or its BTF also knows must agree with it, or the package
// is refused at Parse (ErrBadPackage, naming the JSON path and both values).
// docs/package-format.md lists every field and what it is checked against.

// checkProgs checks bpf_skel.progs: each program is in the object, once, its attach string
// is its ELF section, and the runner has an attacher for that section.
func (p *Package) checkProgs() error {
	seen := map[string]int{}
	for i, pr := range p.Meta.Progs {
		at := jsonPath(p.Meta.path, "bpf_skel", "progs", i)
		ps, ok := p.spec.Programs[pr.Name]
		if !ok {
			return badf(jsonPath(at, "name"), "program %q is not in the BPF object", pr.Name)
		}
		if j, dup := seen[pr.Name]; dup {
			return badf(jsonPath(at, "name"), "program %s is already listed as progs[%d]", pr.Name, j)
		}
		seen[pr.Name] = i
		switch pr.Attach {
		case "":
			// Legacy packages have no attach key: the ELF section is the truth.
			p.Meta.Progs[i].Attach = ps.SectionName
		case ps.SectionName:
		default:
			// Programs attach by their ELF section (as libbpf does); a different attach
			// string would make `ecli inspect` show one thing and `ecli run` do another.
			return badf(jsonPath(at, "attach"),
				"%q does not match the ELF section %q of program %s", pr.Attach, ps.SectionName, pr.Name)
		}
		if _, ok := attachers[sectionFamily(ps.SectionName)]; !ok {
			return badf(jsonPath(at, "attach"), "%w: section %q of program %s", ErrUnsupportedAttach, ps.SectionName, pr.Name)
		}
	}
	return nil
}

// checkMaps checks bpf_skel.maps: each entry names a map of the object, once, by a name and
// ident that agree; in multi-export mode, what export_config says a sampled map's values are
// must fit the map's value size.
func (p *Package) checkMaps() error {
	seen := map[string]int{}
	for i, mm := range p.Meta.Maps {
		at := jsonPath(p.Meta.path, "bpf_skel", "maps", i)
		name, ok := specMapName(p.spec, mm)
		if !ok {
			return badf(at, "map %q (ident %q) is not in the BPF object", mm.Name, mm.Ident)
		}
		if j, dup := seen[name]; dup {
			return badf(at, "map %s is already listed as maps[%d]", name, j)
		}
		seen[name] = i
		if name == mm.Name && mm.Ident != "" && !strings.HasPrefix(name, ".") && mm.Ident != name {
			// A map declared in the program: libbpf's skeleton identifier is its name.
			return badf(jsonPath(at, "ident"), "is %q but map %s of the BPF object is %q in the skeleton", mm.Ident, name, name)
		}
		if p.Meta.MultipleExportTypes {
			if err := p.checkExportConfig(mm, p.spec.Maps[name], name, jsonPath(at, "export_config")); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkExportConfig checks the BTF types of a map's export_config: they exist and have a
// size, and on a sampled map (whose values are read with them) they fit the value size.
func (p *Package) checkExportConfig(mm MapMeta, ms *ebpf.MapSpec, name, at string) error {
	if mm.Export.Kind != ExportTypeID && mm.Export.Kind != ExportMembers {
		return nil
	}
	if p.spec.Types == nil {
		return badf(at, "the BPF object has no BTF")
	}
	sampled := !isStream(ms)
	if mm.Export.Kind == ExportTypeID {
		at = jsonPath(at, "btf_type_id")
		size, t, err := p.sizedType(mm.Export.TypeID, at)
		if err != nil {
			return err
		}
		if sampled && size != ms.ValueSize {
			return badf(at, "is type %d (%s, %d bytes) but map %s holds %d-byte values", mm.Export.TypeID, kindOf(t), size, name, ms.ValueSize)
		}
		return nil
	}
	for i, cm := range mm.Export.Members {
		cp := jsonPath(at, "custom_members", i)
		size, _, err := p.sizedType(cm.TypeID, jsonPath(cp, "btf_type_id"))
		if err != nil {
			return err
		}
		if end := uint64(cm.Offset) + uint64(size); sampled && end > uint64(ms.ValueSize) {
			return badf(jsonPath(cp, "offset"), "member %s ends at byte %d but map %s holds %d-byte values", cm.Name, end, name, ms.ValueSize)
		}
	}
	return nil
}

// sizedType returns the object's BTF type id and its size; a type without a size (a
// function, a variable, a data section, void) is refused at path.
func (p *Package) sizedType(id btf.TypeID, path string) (uint32, btf.Type, error) {
	t, err := p.spec.Types.TypeByID(id)
	if err != nil {
		return 0, nil, badf(path, "type %d is not in the object's BTF", id)
	}
	switch t.(type) {
	case *btf.Func, *btf.FuncProto, *btf.Var, *btf.Datasec, *btf.Void, *btf.Fwd:
		return 0, t, badf(path, "type %d is %s, want a type with a size", id, kindOf(t))
	}
	size, err := btf.Sizeof(t)
	if err != nil {
		return 0, t, badf(path, "type %d is %s, which has no size: %v", id, kindOf(t), err)
	}
	return uint32(size), t, nil
}

// checkDataSections checks bpf_skel.data_sections: each names a data section of the
// object, and each variable found in the object is in that section, at the offset and of
// the size the JSON gives (bpftool's "offset" and "size", when present). Variables missing
// from the object are refused by buildOptions, which knows which names to skip.
func (p *Package) checkDataSections() error {
	for i, ds := range p.Meta.DataSections {
		at := jsonPath(p.Meta.path, "bpf_skel", "data_sections", i)
		if ms, ok := p.spec.Maps[ds.Name]; !ok || ms == nil {
			return badf(jsonPath(at, "name"), "section %q is not a data section of the BPF object", ds.Name)
		}
		for j, v := range ds.Variables {
			vp := jsonPath(at, "variables", j)
			vs, ok := p.spec.Variables[v.Name]
			if !ok {
				continue
			}
			if vs.SectionName != ds.Name {
				return badf(jsonPath(vp, "name"), "variable %s is in section %s of the BPF object, not %s", v.Name, vs.SectionName, ds.Name)
			}
			if v.offset != nil && *v.offset != vs.Offset {
				return badf(jsonPath(vp, "offset"), "is %d but variable %s is at offset %d of %s", *v.offset, v.Name, vs.Offset, ds.Name)
			}
			if v.size != nil && *v.size != vs.Size() {
				return badf(jsonPath(vp, "size"), "is %d but variable %s is %d bytes in the BPF object", *v.size, v.Name, vs.Size())
			}
		}
	}
	return nil
}

// checkExportTypes checks export_types against the object's BTF: each type_id is a struct,
// with the name, size and member names the JSON gives. It sets Size from the BTF.
func (p *Package) checkExportTypes() error {
	if p.Meta.legacyBTF != nil {
		return nil // v1: the types are in export_btf, read from there (parseLegacyExport)
	}
	for i, et := range p.Meta.ExportTypes {
		at := jsonPath(p.Meta.path, "export_types", i)
		if p.spec.Types == nil {
			return badf(at, "the BPF object has no BTF")
		}
		t, err := p.spec.Types.TypeByID(et.TypeID)
		if err != nil {
			return badf(jsonPath(at, "type_id"), "type %d is not in the object's BTF", et.TypeID)
		}
		s, ok := t.(*btf.Struct)
		if !ok {
			return badf(jsonPath(at, "type_id"), "type %d is %s, want a struct", et.TypeID, kindOf(t))
		}
		if et.Name != "" && s.Name != et.Name {
			return badf(jsonPath(at, "name"), "%q does not match BTF type %d (struct %s)", et.Name, et.TypeID, s.Name)
		}
		if et.jsonSize >= 0 && et.jsonSize != int64(s.Size) {
			return badf(jsonPath(at, "size"), "is %d but BTF struct %s is %d bytes", et.jsonSize, s.Name, s.Size)
		}
		p.Meta.ExportTypes[i].Size = s.Size
		if len(et.Members) == 0 {
			continue
		}
		if len(et.Members) != len(s.Members) {
			return badf(jsonPath(at, "members"), "lists %d members but BTF struct %s has %d", len(et.Members), s.Name, len(s.Members))
		}
		for j, m := range et.Members {
			if m.Name != s.Members[j].Name {
				return badf(jsonPath(at, "members", j, "name"), "is %q but member %d of BTF struct %s is %q", m.Name, j, s.Name, s.Members[j].Name)
			}
		}
	}
	return nil
}

// Field names of eunomia's stack_trace interpreter, and whether each must be there.
var stackTraceFields = []struct {
	name     string
	required bool
	counter  bool // a 4-byte integer (sizes, pid, cpu); else an array of u64 or a string
}{
	{"pid", true, true}, {"cpu_id", true, true}, {"comm", false, false},
	{"kstack_sz", true, true}, {"ustack_sz", true, true}, {"kstack", true, false}, {"ustack", true, false},
}

// checkStackTraces checks each exporting map with a stack_trace interpreter against the
// fields of its event type: the fields it reads exist, and the counters are 4-byte
// integers (appendStackTrace reads them so).
func (p *Package) checkStackTraces(exps []*exporter) error {
	for i, mm := range p.Meta.Maps {
		if mm.StackTrace == nil {
			continue
		}
		name, _ := specMapName(p.spec, mm)
		idx := slices.IndexFunc(exps, func(e *exporter) bool { return e.name == name })
		if idx < 0 {
			continue // not read, so not interpreted
		}
		plan := exps[idx].plan
		at := jsonPath(p.Meta.path, "bpf_skel", "maps", i, "intepreter", "stack_trace")
		for _, sf := range stackTraceFields {
			field, fp := sf.name, at
			if n := mm.StackTrace.FieldMap[sf.name]; n != "" {
				field, fp = n, jsonPath(at, "field_map", sf.name)
			}
			f, ok := planField(plan, field)
			if !ok {
				if sf.required {
					return badf(fp, "event type %s has no field %s", plan.Name(), field)
				}
				continue
			}
			if sf.counter && !isInt(f.Type, 4) {
				return badf(fp, "field %s of %s is %s, want a 4-byte integer", field, plan.Name(), kindOf(f.Type))
			}
		}
	}
	return nil
}

func planField(plan *decode.Plan, name string) (decode.Field, bool) {
	for _, f := range plan.Fields() {
		if f.Name == name {
			return f, true
		}
	}
	return decode.Field{}, false
}

// isInt reports whether t is an integer or enum of size bytes.
func isInt(t btf.Type, size uint32) bool {
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		return t.Size == size
	case *btf.Enum:
		return t.Size == size
	}
	return false
}
