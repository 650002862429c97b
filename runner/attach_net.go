package runner

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Network families: xdp, tc/tcx, cgroup, socket filters.

// ifindexFor is the interface a network program attaches to: the user's, else the
// package's (fromMeta), else 1 (lo).
func ifindexFor(fromMeta int, o AttachOptions) int {
	switch {
	case o.Ifindex > 0:
		return o.Ifindex
	case fromMeta > 0:
		return fromMeta
	}
	return 1
}

func attachXDP(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, o AttachOptions) error {
	ifindex := ifindexFor(pm.Ifindex, o)
	l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: link.XDPAttachFlags(pm.XDPFlags)})
	if err != nil {
		return hookErr(fmt.Sprintf("xdp on ifindex %d", ifindex), err)
	}
	i.addLink(l)
	return nil
}

func attachCgroup(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, o AttachOptions) error {
	path := o.CgroupPath
	if path == "" {
		var err error
		if path, err = cgroup2Root(); err != nil {
			return err
		}
	}
	at := i.spec.Programs[pm.Name].AttachType
	l, err := link.AttachCgroup(link.CgroupOptions{Path: path, Attach: at, Program: prog})
	if err != nil {
		return hookErr(fmt.Sprintf("cgroup %s (%s)", path, at), err)
	}
	i.addLink(l)
	return nil
}

// cgroup2Root finds where the cgroup v2 hierarchy is mounted.
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("finding the cgroup v2 mount: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ... mountpoint ... - fstype source opts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		if fs := strings.Fields(post); len(fs) > 0 && fs[0] == "cgroup2" {
			if f := strings.Fields(pre); len(f) > 4 {
				return f[4], nil
			}
		}
	}
	return "", fmt.Errorf("%w: no cgroup v2 hierarchy is mounted (give --cgroup PATH)", ErrHookMissing)
}

// socketFilterRcvBuf is the receive buffer of a socket filter's socket: small, since
// nothing reads it and the kernel drops what does not fit.
const socketFilterRcvBuf = 4096

// attachSocketFilter attaches a socket filter to a packet socket of ecli's own, bound to
// the chosen interface (all interfaces when none is given). The program sees every packet
// the socket would receive; ecli never reads from the socket.
func attachSocketFilter(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, o AttachOptions) error {
	proto := htons(unix.ETH_P_ALL)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return hookErr("packet socket for socket filter", err)
	}
	closeFD := func() error { return unix.Close(fd) }
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, socketFilterRcvBuf)
	if o.Ifindex > 0 {
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: o.Ifindex}); err != nil {
			closeFD()
			return fmt.Errorf("binding packet socket to ifindex %d: %w", o.Ifindex, err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog.FD()); err != nil {
		closeFD()
		return hookErr("SO_ATTACH_BPF", err)
	}
	i.addCloser(closeFD)
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
