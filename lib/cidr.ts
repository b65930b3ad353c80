import { BlockList, isIP } from "node:net";

/** Whether a CIDR such as 10.0.0.0/24 or fd00::/64 holds an IP address (false for anything that is not an IP). */
export function cidrHolds(cidr: string, address: string): boolean {
  const [net, bits] = cidr.split("/");
  const family = isIP(net);
  if (family === 0 || isIP(address) !== family) return false;
  const list = new BlockList();
  const type = family === 4 ? "ipv4" : "ipv6";
  list.addSubnet(net, Number(bits), type);
  return list.check(address, type);
}
