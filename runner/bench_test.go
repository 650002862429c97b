package runner

import (
	"os"
	"testing"

	"ecli/internal/testutils"
)

// BenchmarkStartup measures what `ecli run tcpconnlat` does before the first event can
// arrive: parse the package, load it (kernel BTF, CO-RE, verifier), attach, then close.
// Reproduce: sudo go test -run '^$' -bench Startup -benchmem ./runner
func BenchmarkStartup(b *testing.B) {
	testutils.RequirePrivileged(b)
	data, err := os.ReadFile("../packages/tcpconnlat.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := Parse(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kernel-btf", func(b *testing.B) {
		for b.Loop() {
			if _, err := kernelBTF(""); err != nil {
				b.Fatal(err)
			}
		}
	})
	p, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("load+close", func(b *testing.B) {
		for b.Loop() {
			inst, err := Load(p, LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			inst.Close()
		}
	})
	b.Run("attach+detach", func(b *testing.B) {
		inst, err := Load(p, LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer inst.Close()
		for b.Loop() {
			if err := inst.Attach(AttachOptions{}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			inst.detach()
			b.StartTimer()
		}
	})
	b.Run("parse+load+attach+close", func(b *testing.B) {
		for b.Loop() {
			p, err := Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			inst, err := Load(p, LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if err := inst.Attach(AttachOptions{}); err != nil {
				b.Fatal(err)
			}
			inst.Close()
		}
	})
}

// BenchmarkOutputs measures compiling what a package prints (its decode plans), which
// Parse does once to check the package and Load once per Instance; compare with
// BenchmarkStartup/parse. Reproduce: go test -run '^$' -bench Outputs -benchmem ./runner
func BenchmarkOutputs(b *testing.B) {
	data, err := os.ReadFile("../packages/tcpconnlat.json")
	if err != nil {
		b.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	v := p.NewValues()
	for b.Loop() {
		if _, err := p.Outputs(v); err != nil {
			b.Fatal(err)
		}
	}
}
