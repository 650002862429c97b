// Package runner loads and runs eunomia-bpf packages: a BPF object with JSON metadata.
//
// The life of a package, and of one event through it (file names in brackets):
//
//	package.json ── Parse ──▶ *Package      immutable: Meta, Options, the object [package.go, meta.go]
//	                  │           │
//	                  │       NewValues ──▶ *Values   the user's flags: Set, Bool  [options.go]
//	                  │           │
//	                  └────────▶ Load ──▶ *Instance   object in the kernel, globals baked from
//	                              │                   the Values, outputs compiled once, one
//	                              │                   decode.Plan per printed map  [load.go, outputs.go]
//	                           Attach                 one link per program, by ELF section [attach*.go]
//	                              │
//	                             Run ──▶ io.Writer    ring/perf readers and map samplers:
//	                              │                   sample bytes ─ decode.Plan ─▶ text or JSON
//	                              │                   [run.go, sample.go, lost.go]
//	                            Close                 links, programs and maps released
//
// Parse (or ParseSplit for a bare *.skel.json and its object) reads the package and checks
// it: every error names the JSON path at fault and wraps ErrBadPackage. The Package is
// never changed afterwards. A user's choices for the tool's options, generated from the
// program's globals, are Values: NewValues, then Set per flag. Load writes the values into
// a copy of the object's globals, loads it into the kernel and compiles the decode plans
// of what the package prints ([Package.Outputs] shows the same without a kernel), so a
// parsed package can be loaded many times, concurrently, with different values. Attach
// attaches every program by its ELF section; Run streams events (ring buffers, perf event
// arrays) and samples maps, decoding each sample with package [ecli/runner/decode], until
// its context is cancelled. Close releases everything, also after a failure.
//
// The runner never prints: events go to RunOptions.Out, diagnostics to RunOptions.Diag.
// Errors wrap the sentinels of errors.go (ErrPermission, ErrVerifier, ...) and their
// causes, for errors.Is and errors.As; advice for the user is the caller's to give.
package runner
