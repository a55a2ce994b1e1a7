/**
 * The built-in finding catalogue, used when no fixture export is available (e.g. the published package).
 * Written for the simulator: plugin ids, names and families follow Tenable's public naming so reports look
 * familiar, but descriptions and outputs are short paraphrases, not copies of Tenable's plugin texts.
 */
import { assemble, type CatalogueData, parseDocument, reportItem } from "./catalogue.js"

type F = Parameters<typeof reportItem>[0]

const general: ReadonlyArray<F> = [
  { pluginId: 10180, name: "Ping the remote host", family: "Port scanners", severity: 0, port: 0, svc: "general", synopsis: "It was possible to identify the status of the remote host (alive or dead).", description: "The scanner determined whether the remote host is alive with a combination of probes.", solution: "n/a", output: "The remote host is up\nThe remote host replied to a TCP SYN packet sent to port 22 with a SYN,ACK packet\n" },
  { pluginId: 11219, name: "Nessus SYN scanner", family: "Port scanners", severity: 0, port: 22, svc: "ssh", synopsis: "It is possible to determine which TCP ports are open.", description: "This plugin is a SYN 'half-open' port scanner.", solution: "Protect your target with an IP filter.", output: "Port 22/tcp was found to be open" },
  { pluginId: 11219, name: "Nessus SYN scanner", family: "Port scanners", severity: 0, port: 443, svc: "www", synopsis: "It is possible to determine which TCP ports are open.", description: "This plugin is a SYN 'half-open' port scanner.", solution: "Protect your target with an IP filter.", output: "Port 443/tcp was found to be open" },
  { pluginId: 11219, name: "Nessus SYN scanner", family: "Port scanners", severity: 0, port: 80, svc: "www", synopsis: "It is possible to determine which TCP ports are open.", description: "This plugin is a SYN 'half-open' port scanner.", solution: "Protect your target with an IP filter.", output: "Port 80/tcp was found to be open" },
  { pluginId: 10287, name: "Traceroute Information", family: "General", severity: 0, port: 0, protocol: "udp", svc: "general", synopsis: "It was possible to obtain traceroute information.", description: "Makes a traceroute to the remote host.", solution: "n/a", output: "For your information, here is the traceroute from the scanner to %HOST% :\n192.0.2.1\n%HOST%\n\nHop Count: 2\n" },
  { pluginId: 11936, name: "OS Identification", family: "General", severity: 0, port: 0, svc: "general", synopsis: "It is possible to guess the remote operating system.", description: "Using a combination of remote probes, it is possible to guess the name of the remote operating system in use.", solution: "n/a", output: "\nRemote operating system : Linux Kernel 5.15 on Ubuntu 22.04\nConfidence level : 56\nMethod : SSH\n" },
  { pluginId: 45590, name: "Common Platform Enumeration (CPE)", family: "General", severity: 0, port: 0, svc: "general", synopsis: "It was possible to enumerate CPE names that matched on the remote system.", description: "Reports CPE matches for software found on the host.", solution: "n/a", output: "\nThe remote operating system matched the following CPE : \n\n  cpe:/o:canonical:ubuntu_linux:22.04\n" },
  { pluginId: 54615, name: "Device Type", family: "General", severity: 0, port: 0, svc: "general", synopsis: "It is possible to guess the remote device type.", description: "Based on the remote operating system, it is possible to determine what the remote system type is.", solution: "n/a", output: "Remote device type : general-purpose\nConfidence level : 56\n" },
  { pluginId: 22964, name: "Service Detection", family: "Service detection", severity: 0, port: 443, svc: "www", synopsis: "The remote service could be identified.", description: "It was possible to identify the remote service by its banner or by looking at the error message it sends when it receives an HTTP request.", solution: "n/a", output: "A TLSv1.2 server answered on this port.\n" },
  { pluginId: 10267, name: "SSH Server Type and Version Information", family: "Service detection", severity: 0, port: 22, svc: "ssh", synopsis: "An SSH server is listening on this port.", description: "It is possible to obtain information about the remote SSH server by sending an empty authentication request.", solution: "n/a", output: "\n  SSH version : SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\n  SSH supported authentication : publickey,password\n" },
  { pluginId: 149334, name: "SSH Password Authentication Accepted", family: "Misc.", severity: 0, port: 22, svc: "ssh", synopsis: "The SSH server on the remote host accepts password authentication.", description: "The SSH server on the remote host accepts password authentication.", solution: "n/a" },
  { pluginId: 10107, name: "HTTP Server Type and Version", family: "Web Servers", severity: 0, port: 80, svc: "www", synopsis: "A web server is running on the remote host.", description: "This plugin attempts to determine the type and the version of the remote web server.", solution: "n/a", output: "The remote web server type is :\n\nApache/2.4.52 (Ubuntu)" },
  { pluginId: 10863, name: "SSL Certificate Information", family: "General", severity: 0, port: 443, svc: "www", synopsis: "This plugin displays the SSL certificate.", description: "This plugin connects to every SSL-related port and attempts to extract and dump the X.509 certificate.", solution: "n/a", output: "Subject Name: \n\nCommon Name: %HOST%\n" },
  { pluginId: 56984, name: "SSL / TLS Versions Supported", family: "General", severity: 0, port: 443, svc: "www", synopsis: "The remote service encrypts communications.", description: "This plugin detects which SSL and TLS versions are supported by the remote service.", solution: "n/a", output: "\nThis port supports TLSv1.2 and TLSv1.3.\n" },
  { pluginId: 10114, name: "ICMP Timestamp Request Remote Date Disclosure", family: "General", severity: 0, port: 0, protocol: "icmp", svc: "general", synopsis: "It is possible to determine the exact time set on the remote host.", description: "The remote host answers to an ICMP timestamp request.", solution: "Filter out the ICMP timestamp requests (13), and the outgoing ICMP timestamp replies (14).", output: "The difference between the local and remote clocks is 1 second.\n", cves: ["CVE-1999-0524"] },
  { pluginId: 153953, name: "SSH Weak Key Exchange Algorithms Enabled", family: "Misc.", severity: 1, port: 22, svc: "ssh", synopsis: "The remote SSH server is configured to allow weak key exchange algorithms.", description: "The remote SSH server allows key exchange algorithms that are considered weak.", solution: "Contact the vendor or consult product documentation to disable the weak algorithms.", output: "\nThe following weak key exchange algorithms are enabled :\n\n  diffie-hellman-group-exchange-sha1\n  diffie-hellman-group1-sha1\n", cvss3: 3.7 },
  { pluginId: 70658, name: "SSH Server CBC Mode Ciphers Enabled", family: "Misc.", severity: 1, port: 22, svc: "ssh", synopsis: "The SSH server is configured to use Cipher Block Chaining.", description: "The SSH server allows CBC ciphers, which may let an attacker recover plaintext.", solution: "Disable CBC mode cipher encryption, and enable CTR or GCM cipher mode encryption.", output: "\nThe following client-to-server Cipher Block Chaining (CBC) algorithms\nare supported : \n\n  aes128-cbc\n  aes256-cbc\n", cves: ["CVE-2008-5161"], cvss3: 3.7 },
  { pluginId: 71049, name: "SSH Weak MAC Algorithms Enabled", family: "Misc.", severity: 1, port: 22, svc: "ssh", synopsis: "The remote SSH server is configured to allow MD5 and 96-bit MAC algorithms.", description: "The SSH server allows MD5 or 96-bit MAC algorithms, both considered weak.", solution: "Disable MD5 and 96-bit MAC algorithms.", output: "\nThe following client-to-server MAC algorithms are supported : \n\n  hmac-md5\n  hmac-sha1-96\n" },
  { pluginId: 187315, name: "SSH Terrapin Prefix Truncation Weakness (CVE-2023-48795)", family: "Misc.", severity: 2, port: 22, svc: "ssh", synopsis: "The remote SSH server is vulnerable to a mitm prefix truncation attack.", description: "The SSH server supports ChaCha20-Poly1305 or CBC with Encrypt-then-MAC, which allows prefix truncation by a man-in-the-middle.", solution: "Contact the vendor for an update with the strict key exchange countermeasures or disable the affected algorithms.", output: "\nSupports following ChaCha20-Poly1305 Client to Server algorithm : chacha20-poly1305@openssh.com\n", cves: ["CVE-2023-48795"], cvss3: 5.9 },
  { pluginId: 51192, name: "SSL Certificate Cannot Be Trusted", family: "General", severity: 2, port: 443, svc: "www", synopsis: "The SSL certificate for this service cannot be trusted.", description: "The server's X.509 certificate cannot be trusted: its chain does not end in a known public certificate authority.", solution: "Purchase or generate a proper SSL certificate for this service.", output: "\nThe following certificate was at the top of the certificate\nchain sent by the remote host, but it is signed by an unknown\ncertificate authority :\n\n|-Subject : CN=%HOST%\n|-Issuer  : CN=%HOST%\n", cvss3: 6.5 },
  { pluginId: 57582, name: "SSL Self-Signed Certificate", family: "General", severity: 2, port: 443, svc: "www", synopsis: "The SSL certificate chain for this service ends in an unrecognized self-signed certificate.", description: "The X.509 certificate chain for this service is not signed by a recognized certificate authority.", solution: "Purchase or generate a proper SSL certificate for this service.", output: "\nThe following certificate was found at the top of the certificate\nchain sent by the remote host, but is self-signed :\n\n|-Subject : CN=%HOST%\n", cvss3: 6.5 },
  { pluginId: 104743, name: "TLS Version 1.0 Protocol Detection", family: "Service detection", severity: 2, port: 443, svc: "www", synopsis: "The remote service encrypts traffic using an older version of TLS.", description: "The remote service accepts connections encrypted using TLS 1.0.", solution: "Enable support for TLS 1.2 and 1.3, and disable support for TLS 1.0.", output: "TLSv1 is enabled and the server supports at least one cipher.", cvss3: 6.5 },
  { pluginId: 157288, name: "TLS Version 1.1 Deprecated Protocol", family: "Service detection", severity: 2, port: 443, svc: "www", synopsis: "The remote service encrypts traffic using an older version of TLS.", description: "The remote service accepts connections encrypted using TLS 1.1.", solution: "Enable support for TLS 1.2 and/or 1.3, and disable support for TLS 1.1.", output: "TLSv1.1 is enabled and the server supports at least one cipher.", cvss3: 6.5 },
  { pluginId: 42873, name: "SSL Medium Strength Cipher Suites Supported (SWEET32)", family: "General", severity: 3, port: 443, svc: "www", synopsis: "The remote service supports the use of medium strength SSL ciphers.", description: "The remote host supports SSL ciphers that offer medium strength encryption (64-bit block ciphers such as 3DES).", solution: "Reconfigure the affected application if possible to avoid use of medium strength ciphers.", output: "\n  Medium Strength Ciphers (> 64-bit and < 112-bit key, or 3DES)\n\n    DES-CBC3-SHA\n", cves: ["CVE-2016-2183"], cvss3: 7.5 },
  { pluginId: 201198, name: "Apache 2.4.x < 2.4.60 Multiple Vulnerabilities", family: "Web Servers", severity: 3, port: 80, svc: "www", synopsis: "The remote web server is affected by multiple vulnerabilities.", description: "The version of Apache httpd installed on the remote host is prior to 2.4.60 and is affected by multiple vulnerabilities.", solution: "Upgrade to Apache version 2.4.60 or later.", output: "\n  URL               : http://%HOST%/\n  Installed version : 2.4.52\n  Fixed version     : 2.4.60\n", cves: ["CVE-2024-38474", "CVE-2024-38475"], cvss3: 9.8 },
  { pluginId: 214542, name: "OpenSSH < 9.6 Multiple Vulnerabilities", family: "Misc.", severity: 2, port: 22, svc: "ssh", synopsis: "The SSH server running on the remote host is affected by multiple vulnerabilities.", description: "The version of OpenSSH installed on the remote host is prior to 9.6.", solution: "Upgrade to OpenSSH version 9.6 or later.", output: "\n  Version source    : SSH-2.0-OpenSSH_8.9p1\n  Installed version : 8.9p1\n  Fixed version     : 9.6\n", cves: ["CVE-2023-48795", "CVE-2023-51385"], cvss3: 6.5 },
  { pluginId: 235000, name: "Apache 2.4.x < 2.4.64 Multiple Vulnerabilities", family: "Web Servers", severity: 4, port: 80, svc: "www", synopsis: "The remote web server is affected by multiple vulnerabilities.", description: "The version of Apache httpd installed on the remote host is prior to 2.4.64 and is affected by multiple vulnerabilities, including a request smuggling issue.", solution: "Upgrade to Apache version 2.4.64 or later.", output: "\n  URL               : http://%HOST%/\n  Installed version : 2.4.52\n  Fixed version     : 2.4.64\n", cves: ["CVE-2025-53020"], cvss3: 9.1 },
  { pluginId: 58987, name: "PHP Unsupported Version Detection", family: "CGI abuses", severity: 4, port: 80, svc: "www", synopsis: "The remote host contains an unsupported version of a web application scripting language.", description: "According to its version, the installation of PHP on the remote host is no longer supported.", solution: "Upgrade to a version of PHP that is currently supported.", output: "\n  Source              : X-Powered-By: PHP/7.4.3\n  Installed version   : 7.4.3\n  End of support date : 2022/11/28\n", cvss3: 10.0 }
]

const local: ReadonlyArray<F> = [
  { pluginId: 208001, name: "Ubuntu 22.04 LTS : OpenSSL vulnerabilities (USN-7000-1)", family: "Ubuntu Local Security Checks", severity: 2, port: 0, svc: "general", synopsis: "The remote Ubuntu host is missing one or more security updates.", description: "The remote Ubuntu host has a package installed that is affected by vulnerabilities as referenced in the advisory.", solution: "Update the affected packages.", output: "\n  - Installed package : libssl3_3.0.2-0ubuntu1.15\n  - Fixed package     : libssl3_3.0.2-0ubuntu1.18\n", cvss3: 5.9 },
  { pluginId: 208002, name: "Ubuntu 22.04 LTS : Linux kernel vulnerabilities (USN-7001-1)", family: "Ubuntu Local Security Checks", severity: 3, port: 0, svc: "general", synopsis: "The remote Ubuntu host is missing one or more security updates.", description: "The remote Ubuntu host has a kernel package installed that is affected by vulnerabilities as referenced in the advisory.", solution: "Update the affected kernel package.", output: "\nRunning Kernel level of 5.15.0-91-generic does not meet the minimum fixed level of 5.15.0-119-generic for this advisory.\n", cvss3: 7.8 },
  { pluginId: 208003, name: "Ubuntu 22.04 LTS : sudo vulnerability (USN-7002-1)", family: "Ubuntu Local Security Checks", severity: 3, port: 0, svc: "general", synopsis: "The remote Ubuntu host is missing a security update.", description: "The remote Ubuntu host has a sudo package installed that is affected by a vulnerability as referenced in the advisory.", solution: "Update the affected sudo package.", output: "\n  - Installed package : sudo_1.9.9-1ubuntu2.3\n  - Fixed package     : sudo_1.9.9-1ubuntu2.4\n", cvss3: 7.8 },
  { pluginId: 208004, name: "Ubuntu 22.04 LTS : glibc vulnerabilities (USN-7003-1)", family: "Ubuntu Local Security Checks", severity: 4, port: 0, svc: "general", synopsis: "The remote Ubuntu host is missing one or more security updates.", description: "The remote Ubuntu host has a glibc package installed that is affected by vulnerabilities as referenced in the advisory.", solution: "Update the affected packages.", output: "\n  - Installed package : libc6_2.35-0ubuntu3.4\n  - Fixed package     : libc6_2.35-0ubuntu3.8\n", cvss3: 9.8 },
  { pluginId: 208005, name: "Ubuntu 22.04 LTS : curl vulnerabilities (USN-7004-1)", family: "Ubuntu Local Security Checks", severity: 1, port: 0, svc: "general", synopsis: "The remote Ubuntu host is missing one or more security updates.", description: "The remote Ubuntu host has a curl package installed that is affected by vulnerabilities as referenced in the advisory.", solution: "Update the affected packages.", output: "\n  - Installed package : curl_7.81.0-1ubuntu1.15\n  - Fixed package     : curl_7.81.0-1ubuntu1.16\n", cvss3: 3.7 }
]

const hostProps = [
  `<tag name="operating-system">Linux Kernel 5.15 on Ubuntu 22.04</tag>`,
  `<tag name="operating-system-method">SSH</tag>`,
  `<tag name="operating-system-conf">100</tag>`,
  `<tag name="system-type">general-purpose</tag>`,
  `<tag name="cpe">cpe:/o:canonical:ubuntu_linux:22.04</tag>`,
  `<tag name="os">linux</tag>`,
  `<tag name="ssh-fingerprint">SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10</tag>`
].join("\n")

const head = `<?xml version="1.0" ?>
<NessusClientData_v2>
<Policy><policyName>Advanced Scan</policyName>
<Preferences><ServerPreferences><preference><name>TARGET</name>
<value>192.0.2.1</value>
</preference>
<preference><name>port_range</name>
<value>default</value>
</preference>
<preference><name>safe_checks</name>
<value>yes</value>
</preference>
<preference><name>max_hosts</name>
<value>30</value>
</preference>
<preference><name>max_checks</name>
<value>4</value>
</preference>
</ServerPreferences>
<PluginsPreferences></PluginsPreferences>
</Preferences>
<FamilySelection></FamilySelection>
<IndividualPluginSelection></IndividualPluginSelection>
</Policy>
`

/** The built-in catalogue's document, with `%HOST%` standing for the host address. */
const documentText = (): string => {
  const h = "192.0.2.1"
  const items = [...general, ...local].map((f) =>
    reportItem(f.output === undefined ? f : { ...f, output: f.output.split("%HOST%").join(h) })
  )
  return `${head}<Report name="builtin" xmlns:cm="http://www.nessus.org/cm">
<ReportHost name="${h}"><HostProperties>
${hostProps}
<tag name="host-ip">${h}</tag>
</HostProperties>
${items.join("\n")}
</ReportHost>
</Report>
</NessusClientData_v2>
`
}

let cached: CatalogueData | undefined

/** The built-in catalogue (parsed once). */
export const builtinCatalogue = (): CatalogueData => {
  if (cached) return cached
  const parsed = parseDocument(documentText())!
  cached = assemble("builtin", [], [parsed])
  return cached
}
