#!/usr/bin/env bash
# Make the captures in this directory: real traffic between two network
# namespaces joined by a veth pair, captured with tcpdump (Debian's
# tcpdump 4.99) and tshark.  Run as root on Linux; needs ip, ethtool,
# tcpdump, tshark, socat, ping and python3.  Checksum offload is turned off
# on the veth pair, so the kernel finishes every checksum and the capture
# tracks as a NIC's traffic would.
set -euo pipefail
cd "$(dirname "$0")"
A=ctA B=ctB
cleanup() { ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $A; ip netns add $B
ip link add vA netns $A type veth peer name vB netns $B
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A addr add 10.0.0.1/24 dev vA; ip -n $B addr add 10.0.0.2/24 dev vB
ip -n $A addr add fd00::1/64 dev vA nodad; ip -n $B addr add fd00::2/64 dev vB nodad
ip -n $A link set vA up; ip -n $B link set vB up
ip netns exec $A ethtool -K vA tx off rx off >/dev/null
ip netns exec $B ethtool -K vB tx off rx off >/dev/null
sleep 1

# Servers in B: HTTP on 8080 (v4 and v6), UDP echo on 5353 (v4 and v6).
ip netns exec $B python3 -m http.server 8080 --bind :: >/dev/null 2>&1 &
HTTP=$!
ip netns exec $B socat -T1 UDP6-RECVFROM:5353,fork,ipv6only=0 EXEC:cat >/dev/null 2>&1 &
UDP=$!
sleep 1

traffic() {
    # TCP: handshake, request, response, FIN (v4 and v6)
    ip netns exec $A python3 - <<'PY'
import urllib.request
for url in ("http://10.0.0.2:8080/", "http://[fd00::2]:8080/"):
    urllib.request.urlopen(url, timeout=5).read()
PY
    # TCP to a closed port: SYN, then the kernel's RST
    ip netns exec $A socat -T1 - TCP:10.0.0.2:9,connect-timeout=1 </dev/null 2>/dev/null || true
    ip netns exec $A socat -T1 - TCP6:[fd00::2]:9,connect-timeout=1 </dev/null 2>/dev/null || true
    # UDP request and response (v4, v6), and UDP to a closed port (ICMP error)
    echo ping | ip netns exec $A socat -T1 - UDP:10.0.0.2:5353 >/dev/null || true
    echo ping | ip netns exec $A socat -T1 - UDP6:[fd00::2]:5353 >/dev/null || true
    echo lost | ip netns exec $A socat -T1 - UDP:10.0.0.2:9 >/dev/null 2>&1 || true
    echo lost | ip netns exec $A socat -T1 - UDP6:[fd00::2]:9 >/dev/null 2>&1 || true
    # ICMP echo (v4, v6)
    ip netns exec $A ping -c 2 -i 0.2 -q 10.0.0.2 >/dev/null
    ip netns exec $A ping -6 -c 2 -i 0.2 -q fd00::2 >/dev/null
}

capture() {  # capture NAME TOOL-ARGS...: run the traffic under a capture
    local name=$1; shift
    "$@" &
    local cap=$!
    sleep 1.5
    traffic
    sleep 1
    kill -INT $cap; wait $cap 2>/dev/null || true
}

# Ethernet, pcap (tcpdump), on A's side of the veth pair.
capture mixed ip netns exec $A tcpdump -q -i vA -s 0 -w mixed.pcap
# The same kind of traffic as pcapng (tshark), and through Linux cooked
# headers: SLL2 (tcpdump -i any's default) and SLL v1 (-y LINUX_SLL).
capture mixed-ng ip netns exec $A tshark -q -i vA -w mixed.pcapng
capture mixed-sll2 ip netns exec $A tcpdump -q -i any -s 0 -w mixed.sll2.pcap
capture mixed-sll ip netns exec $A tcpdump -q -i any -y LINUX_SLL -s 0 -w mixed.sll.pcap
# Cut by a snap length of 64 bytes.
capture mixed-snap ip netns exec $A tcpdump -q -i vA -s 64 -w mixed.snap64.pcap

kill $HTTP $UDP 2>/dev/null || true
chmod 644 ./*.pcap ./*.pcapng
