// An SSH local forward on a tunnel host, shared with trusted sources behind a host-firewall rule.
package sharedtunnel
