package runner

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecli/internal/testutils"
)

// TestAttachTC attaches a tc program on lo both ways the runner can — a tcx link, and a
// clsact qdisc + direct-action bpf filter over rtnetlink (what kernels before 6.6 get) —
// and counts real UDP datagrams through it.
func TestAttachTC(t *testing.T) {
	testutils.RequirePrivileged(t)
	data, err := os.ReadFile("../testdata/attach/tc.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, netlink := range []bool{false, true} {
		t.Run(map[bool]string{false: "tcx", true: "netlink"}[netlink], func(t *testing.T) {
			p, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			port := ln.LocalAddr().(*net.UDPAddr).Port
			v := p.NewValues()
			if err := v.Set("target_port", strconv.Itoa(port)); err != nil {
				t.Fatal(err)
			}
			inst, err := Load(p, LoadOptions{Values: v})
			if err != nil {
				t.Fatal(err)
			}
			progs, maps := inst.ObjectIDs()
			if err := inst.Attach(AttachOptions{Ifindex: 1, tcNetlink: netlink}); err != nil {
				inst.Close()
				t.Fatalf("Attach: %v", err)
			}
			c, err := net.DialUDP("udp4", nil, ln.LocalAddr().(*net.UDPAddr))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				c.Write([]byte("x"))
			}
			c.Close()
			var hits uint64
			testutils.Poll(2*time.Second, func() bool {
				if err := inst.Map("hits").Lookup(uint32(0), &hits); err != nil {
					t.Fatal(err)
				}
				return hits >= 5
			})
			if hits != 5 {
				t.Errorf("tc program counted %d datagrams, want 5", hits)
			}
			if err := inst.Close(); err != nil {
				t.Fatal(err)
			}
			testutils.CheckGone(t, progs, maps)
			if out, _ := exec.Command("tc", "qdisc", "show", "dev", "lo").Output(); strings.Contains(string(out), "clsact") {
				t.Errorf("clsact qdisc left on lo: %s", out)
			}
		})
	}
}
