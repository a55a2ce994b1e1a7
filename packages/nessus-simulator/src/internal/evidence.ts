/**
 * Plugin 19506 and the authentication-evidence plugins, written per host from the credential outcome.
 * Texts follow the shapes quoted in shared/reference/plugin-19506.md (10.x field order, `&apos;` escaping,
 * `yes, as '<user>' via ssh`, 21745/104410 failure blocks, 110385 insufficient privilege).
 */
import { escapeXml, scanDate } from "./util.js"

/** What happened when the scan tried the configured credentials on one host. */
export type CredentialOutcome =
  | { readonly status: "none" }
  | {
    readonly status: "success"
    readonly username: string
    readonly protocol: "ssh" | "smb"
    readonly authMethod?: string | undefined
    readonly escalation?: string | undefined
  }
  | { readonly status: "failed"; readonly username: string; readonly protocol: "ssh" | "smb" }
  | {
    readonly status: "escalationFailed"
    readonly username: string
    readonly protocol: "ssh"
    readonly authMethod?: string | undefined
    readonly escalation: string
  }

/** A generated ReportItem: metadata for summaries plus its XML. */
export interface GeneratedItem {
  readonly pluginId: number
  readonly pluginName: string
  readonly family: string
  readonly severity: number
  readonly port: string
  readonly protocol: string
  readonly svcName: string
  readonly output: string
  readonly xml: string
}

/** Scan-level facts printed in 19506. */
export interface ScanInfo {
  readonly scanName: string
  readonly policyName: string
  readonly nessusVersion: string
  readonly edition: string
  readonly scannerIp: string
  readonly startMs: number
  readonly durationSec: number
}

const item = (
  f: {
    pluginId: number
    name: string
    family: string
    port?: string
    protocol?: string
    svc?: string
    synopsis: string
    description: string
    fname: string
    pluginType?: string
    output: string
  }
): GeneratedItem => {
  const port = f.port ?? "0"
  const protocol = f.protocol ?? "tcp"
  const svc = f.svc ?? "general"
  const xml = `<ReportItem port="${port}" svc_name="${svc}" protocol="${protocol}" severity="0" pluginID="${f.pluginId}" pluginName="${
    escapeXml(f.name)
  }" pluginFamily="${f.family}">
<agent>all</agent>
<description>${escapeXml(f.description)}</description>
<fname>${f.fname}</fname>
<plugin_modification_date>2025/10/29</plugin_modification_date>
<plugin_name>${escapeXml(f.name)}</plugin_name>
<plugin_publication_date>2005/08/26</plugin_publication_date>
<plugin_type>${f.pluginType ?? "summary"}</plugin_type>
<risk_factor>None</risk_factor>
<solution>n/a</solution>
<synopsis>${escapeXml(f.synopsis)}</synopsis>
<plugin_output>${escapeXml(f.output)}</plugin_output>
</ReportItem>
`
  return {
    pluginId: f.pluginId,
    pluginName: f.name,
    family: f.family,
    severity: 0,
    port,
    protocol,
    svcName: svc,
    output: f.output,
    xml
  }
}

/** The `Credentialed checks : ...` value for an outcome. */
export const credentialedLine = (o: CredentialOutcome): string => {
  switch (o.status) {
    case "none":
    case "failed":
      return "no"
    case "success":
    case "escalationFailed":
      return `yes, as '${o.username}' via ${o.protocol === "ssh" ? "ssh" : "SMB"}`
  }
}

/** True when 19506 says `yes` for this outcome. */
export const isCredentialed = (o: CredentialOutcome): boolean =>
  o.status === "success" || o.status === "escalationFailed"

/** Plugin 19506 "Nessus Scan Information" for one host. */
export const plugin19506 = (info: ScanInfo, o: CredentialOutcome): GeneratedItem => {
  const lines = [
    "Information about this scan : ",
    "",
    `Nessus version : ${info.nessusVersion}`,
    "Nessus build : 20010",
    "Plugin feed version : 202511060226",
    `Scanner edition used : ${info.edition}`,
    "Scanner OS : LINUX",
    "Scanner distribution : ubuntu1604-x86-64",
    "Scan type : Normal",
    `Scan name : ${info.scanName}`,
    `Scan policy used : ${info.policyName}`,
    `Scanner IP : ${info.scannerIp}`,
    "Port scanner(s) : nessus_syn_scanner ",
    "Port range : default",
    "Ping RTT : 12.345 ms",
    "Thorough tests : no",
    "Experimental tests : no",
    "Scan for Unpatched Vulnerabilities : no",
    "Plugin debugging enabled : no",
    "Paranoia level : 1",
    "Report verbosity : 1",
    "Safe checks : yes",
    "Optimize the test : yes",
    `Credentialed checks : ${credentialedLine(o)}`,
    ...(isCredentialed(o) ? ["Attempt Least Privilege : no"] : []),
    "Patch management checks : None",
    `Display superseded patches : yes (supersedence plugin ${isCredentialed(o) ? "launched" : "did not launch"})`,
    "CGI scanning : disabled",
    "Web application tests : disabled",
    "Max hosts : 30",
    "Max checks : 4",
    "Recv timeout : 5",
    "Backports : None",
    "Allow post-scan editing : Yes",
    "Nessus Plugin Signature Checking : Enabled",
    "Audit File Signature Checking : Disabled",
    `Scan Start Date : ${scanDate(info.startMs)}`,
    `Scan duration : ${info.durationSec} sec`,
    "Scan for malware : no",
    ""
  ]
  return item({
    pluginId: 19506,
    name: "Nessus Scan Information",
    family: "Settings",
    synopsis: "This plugin displays information about the Nessus scan.",
    description:
      "This plugin displays, for each tested host, information about the scan itself : the plugin set, the scanner, the port scanner(s), the port range, whether credentialed checks are possible, the date and the duration of the scan.",
    fname: "scan_info.nasl",
    output: lines.join("\n")
  })
}

const loginBlock = (o: { username: string; protocol: "ssh" | "smb"; authMethod?: string | undefined; escalation?: string | undefined }) =>
  [
    `  User:        '${o.username}'`,
    `  Port:        ${o.protocol === "ssh" ? 22 : 445}`,
    `  Proto:       ${o.protocol === "ssh" ? "SSH" : "SMB"}`,
    `  Method:      ${o.authMethod ?? (o.protocol === "ssh" ? "password" : "NTLM")}`,
    ...(o.escalation !== undefined && o.escalation !== "Nothing" ? [`  Escalation:  ${o.escalation}`] : [])
  ].join("\n")

const portOf = (p: "ssh" | "smb") => (p === "ssh" ? { port: "22", svc: "ssh" } : { port: "445", svc: "cifs" })

/** The evidence plugins (besides 19506) that a real 10.x scan writes for this outcome. */
export const evidenceItems = (o: CredentialOutcome): Array<GeneratedItem> => {
  switch (o.status) {
    case "none":
      return []
    case "success": {
      const common = [
        item({
          pluginId: 141118,
          name: "Target Credential Status by Authentication Protocol - Valid Credentials Provided",
          family: "Settings",
          ...portOf(o.protocol),
          synopsis: "Valid credentials were provided for an available authentication protocol.",
          description:
            "Nessus was able to determine that valid credentials were provided for an authentication protocol available on the remote target.",
          fname: "target_credential_status_valid.nbin",
          output: `\nNessus was able to log in to the remote host via the following :\n\n${loginBlock(o)}\n`
        }),
        item({
          pluginId: 110095,
          name: "Target Credential Issues by Authentication Protocol - No Issues Found",
          family: "Settings",
          ...portOf(o.protocol),
          synopsis: "Nessus was able to log in to the remote host using the provided credentials. No issues were reported.",
          description:
            "Valid credentials were provided and no issues were encountered with privileges or access for all planned checks.",
          fname: "target_credential_issues_none.nbin",
          output:
            `\nNessus was able to log into the remote host with no privilege or access\nproblems via the following :\n\n${
              loginBlock(o)
            }\n`
        }),
        item({
          pluginId: 117887,
          name: "OS Security Patch Assessment Available",
          family: "Settings",
          synopsis: "Nessus was able to log in to the remote host using the provided credentials and enumerate OS security patch levels.",
          description: "OS security patch assessment checks are available and were enabled for this host.",
          fname: "os_security_patch_assessment_available.nbin",
          output: `\nOS Security Patch Assessment is available.\n\nAccount  : ${o.username}\nProtocol : ${
            o.protocol === "ssh" ? "SSH" : "SMB"
          }\n`
        })
      ]
      if (o.protocol === "ssh") {
        common.push(
          item({
            pluginId: 12634,
            name: "Authenticated Check : OS Name and Installed Package Enumeration",
            family: "Settings",
            synopsis: "This plugin gathers information about the remote host via an authenticated session.",
            description:
              "This plugin logs into the remote host using SSH, RSH, RLOGIN, Telnet, or local commands and extracts the list of installed packages.",
            fname: "ssh_get_info.nasl",
            pluginType: "remote",
            output:
              "\nNessus can run commands on the remote host to check if patches are\napplied.\n\nThe output of \"uname -a\" is :\nLinux target 5.15.0-91-generic #101-Ubuntu SMP x86_64 GNU/Linux\n\nLocal security checks have been enabled for this host.\n"
          }),
          item({
            pluginId: 22869,
            name: "Software Enumeration (SSH)",
            family: "General",
            synopsis: "It was possible to enumerate installed software on the remote host via SSH.",
            description: "Nessus was able to list the software installed on the remote host by calling the appropriate command.",
            fname: "ssh_software.nasl",
            pluginType: "local",
            output:
              "\nHere is the list of packages installed on the remote Ubuntu Linux system :\n\n  ii  openssh-server  1:8.9p1-3ubuntu0.10  amd64  secure shell (SSH) server\n  ii  openssl  3.0.2-0ubuntu1.15  amd64  Secure Sockets Layer toolkit\n  ii  sudo  1.9.9-1ubuntu2.3  amd64  Provide limited super user privileges\n"
          })
        )
      } else {
        common.push(item({
          pluginId: 10394,
          name: "Microsoft Windows SMB Log In Possible",
          family: "Windows",
          port: "445",
          svc: "cifs",
          synopsis: "It was possible to log into the remote host.",
          description: "The remote host is running a Microsoft Windows operating system or Samba and it was possible to log into it using the supplied account.",
          fname: "smb_login.nasl",
          pluginType: "remote",
          output: `- The SMB tests will be done as ${o.username}/******\n`
        }))
      }
      return common
    }
    case "failed": {
      const proto = o.protocol === "ssh" ? "SSH" : "SMB"
      return [
        item({
          pluginId: 21745,
          name: "OS Security Patch Assessment Failed",
          family: "Settings",
          synopsis: "Errors prevented OS Security Patch Assessment.",
          description:
            "OS Security Patch Assessment is not available because of an error, for example the supplied credentials did not allow a login.",
          fname: "authentication_failure.nasl",
          output: `\nThe following service errors were logged :\n\n  - Plugin      : ${
            o.protocol === "ssh" ? "ssh_get_info2.nasl" : "smb_login.nasl"
          }\n    Plugin ID   : ${o.protocol === "ssh" ? 97993 : 10394}\n    Protocol    : ${proto}\n    Message     : \nUnable to login to remote host with supplied credential sets.\n`
        }),
        item({
          pluginId: 104410,
          name: "Target Credential Status by Authentication Protocol - Failure for Provided Credentials",
          family: "Settings",
          ...portOf(o.protocol),
          synopsis: "Nessus was unable to log in to the detected authentication protocol, using the provided credentials.",
          description:
            "Nessus was unable to log in to the remote host using the provided credentials for the authentication protocol listed.",
          fname: "target_credential_status_failure.nbin",
          output: `\nNessus was unable to log into the following host for which\ncredentials have been provided :\n\n  Protocol        : ${proto}\n  Port            : ${
            o.protocol === "ssh" ? 22 : 445
          }\n  Failure details :\n  - User : ${o.username}\n    - Plugin      : ${
            o.protocol === "ssh" ? "ssh_get_info2.nasl" : "smb_login.nasl"
          }\n      Plugin ID   : ${o.protocol === "ssh" ? 97993 : 10394}\n      Message     : \nAuthentication failed: the credentials were rejected.\n`
        })
      ]
    }
    case "escalationFailed":
      return [
        item({
          pluginId: 141118,
          name: "Target Credential Status by Authentication Protocol - Valid Credentials Provided",
          family: "Settings",
          port: "22",
          svc: "ssh",
          synopsis: "Valid credentials were provided for an available authentication protocol.",
          description:
            "Nessus was able to determine that valid credentials were provided for an authentication protocol available on the remote target.",
          fname: "target_credential_status_valid.nbin",
          output: `\nNessus was able to log in to the remote host via the following :\n\n${loginBlock(o)}\n`
        }),
        item({
          pluginId: 110385,
          name: "Target Credential Issues by Authentication Protocol - Insufficient Privilege",
          family: "Settings",
          port: "22",
          svc: "ssh",
          synopsis: "Nessus was able to log in to the remote host, however this credential did not have sufficient privileges for all planned checks.",
          description:
            "Nessus was able to log in with the provided credentials, but privilege escalation failed, so checks that need elevated privileges did not run.",
          fname: "target_credential_issues_insufficient_privilege.nbin",
          output:
            `\nNessus was able to log into the remote host, however this credential\ndid not have sufficient privileges for all planned checks :\n\n${
              loginBlock(o)
            }\n\nSee the output of the following plugin for details :\n\n  Plugin ID   : 102094\n  Plugin Name : SSH Commands Require Privilege Escalation\n`
        }),
        item({
          pluginId: 102094,
          name: "SSH Commands Require Privilege Escalation",
          family: "Settings",
          synopsis: "This plugin reports the SSH commands that failed with a response indicating that privilege escalation is required.",
          description: "Some commands run by Nessus over SSH failed because they required privilege escalation that did not succeed.",
          fname: "ssh_cmds_require_priv_escalation.nbin",
          output:
            `\nLogin account : ${o.username}\nCommands failed due to privilege escalation failure :\n\n- Escalation account : root\n  Escalation method : ${o.escalation}\n  Plugins :\n  - Plugin Filename : enumerate_aws_ami_nix.nasl\n    Plugin ID : 90191\n    Plugin Name : Amazon Web Services EC2 Instance Metadata Enumeration (Unix)\n    - Command : "dmidecode -s system-version 2>&1"\n      Response : "sudo: a password is required"\n      Error : "Privilege escalation failed"\n`
        })
      ]
  }
}
