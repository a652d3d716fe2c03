// Package testnet holds the multi-node test networks of pilot: the
// many-node harness behind "pilot testnet run", topology analysis and
// reports. Network simulation with real kernel NAT lives in the sub-package
// testnet/natlab. Only cmd and _test.go files may import testnet.
package testnet
