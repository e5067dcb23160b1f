#!/usr/bin/python3
"""A fake Microsoft cloud on 127.0.0.1 for the collect tests and the collection benchmark.

Serves, from one tenant described as a snapshot v1 document, what `tenantscan collect` reads:
  POST /login/{tenant}/oauth2/v2.0/token             client credentials (secret or certificate)
  GET  /graph/v1.0/...                               policies, locations, users, groups, ...
  POST /graph/v1.0/$batch                            up to 20 sub-requests, each answered alone
  POST /graph/v1.0/identity/conditionalAccess/evaluate   the what-if API
  POST /exchange/adminapi/beta/{tenantId}/InvokeCommand  Exchange cmdlets
so the base URLs are https://127.0.0.1:PORT/login, .../graph and .../exchange (three resources,
one server). Lists are paged with @odata.nextLink. Faults are injected per test (see FAULTS).

Usage: fake_cloud.py --tenant FILE [--scenario FILE] [--cert PEM --key PEM] [--app-cert PEM]
                     [--log FILE] [--latency-ms N] [--synthetic SPEC] [--proxy]
Prints "FOREIGN <n>" (the second origin, below), "PORT <n>" (and "PROXY <n>" with --proxy) once it listens (port 0: parallel tests never
collide), then serves until terminated. The expected client secret comes from the environment
(FAKE_CLOUD_CLIENT_SECRET), never from argv. --app-cert is the app's certificate: client
assertions must carry its thumbprints and verify against its key.

Tenant extras (ignored by tenantscan's loader): "fakeCloud": {
  "clientId": the app id to accept, "domains": names accepted for the tenant,
  "staleSignIns": sign-ins older than any --since window (must be filtered out),
  "whatIf": {userId: [{"id", "policyApplies", "analysisReasons"}]} answers of the what-if API,
  "generate": {"users": N, "groupMembers": {groupId: N}} extra synthetic objects}
Sign-in dates are shifted so that the newest one is one day old.

FAULTS (scenario "faults": [...]), each matching requests by:
  "path" (prefix of the path without the query, e.g. "/graph/v1.0/users"), "cmdlet",
  "batch" (true: only $batch sub-requests, false: only direct requests), "skip" (let N matching
  requests pass first), "times" (how many to affect, default 1, -1 = all)
and doing "action":
  "status"   answer "status" with "headers" and "body" (or "graphError": {code, message}, or
             "exchangeError": "Ex..|Type|message")
  "slow"     wait "delay" seconds, then answer normally
  "truncate" answer 200 with the JSON cut in half
  "html"     answer 200 with an HTML sign-in page
  "loop"     answer normally, but with an @odata.nextLink back to the same page
  "echoToken" answer 401 with an error message that quotes the bearer token
  "redirect" answer "status" (default 302) with Location: the same path and query on the second
             origin ("target": "foreign", default) or on this one ("target": "self")
  "empty"    answer "status" (default 200) with an empty body (Content-Length: 0)
  "huge"     answer 200 with a valid JSON page padded to "megabytes" MiB ("chunked": true sends it
             with Transfer-Encoding: chunked and no Content-Length)
Scenario "expireTokensAfter": N expires every token issued so far after N API requests.
Scenario "revokeTokensAfter": N (with "revokeResource": "graph" | "exchange", default both) makes
  the tokens issued so far invalid after N API requests, answered as each service answers an
  invalid token it does not call expired: Graph 401 InvalidAuthenticationToken "Access token
  validation failure.", Exchange 401 with WWW-Authenticate: Bearer ... error="invalid_token" and
  no body.
Scenario "tokenLifetime": seconds reported in expires_in (default 3599).

CREDENTIAL SOURCES besides the app's secret and certificate (docs/collect.md, docs/microsoft-facts.md):
  POST /login/{tenant}/oauth2/v2.0/devicecode   device authorization (client_id = "publicClientId")
  POST /login/{tenant}/oauth2/v2.0/token        also grant_type device_code (each poll answers the next of
       deviceCode.polls: "authorization_pending", "slow_down", "authorization_declined", "expired_token",
       "bad_verification_code" or "approve"; the last repeats; a poll sooner than the interval, plus 5 s per
       slow_down, is logged as kind "tooSoon"), grant_type refresh_token (the refresh token of a device code
       sign-in, for the other resource), and client_credentials with a federated client assertion: an
       unsigned JWT whose iss/sub/aud match one of scenario "federated" [{issuer, subject, audience}] and
       whose exp has not passed (signatures of external issuers are not checked)
  GET  /msi/token?resource=&api-version=2019-08-01[&client_id=]   App Service style, header X-IDENTITY-HEADER
       must equal scenario "identityHeader"
  GET  /metadata/identity/oauth2/token?resource=&api-version=2018-02-01[&client_id=]  IMDS style, header
       Metadata: true; client_id must be in scenario "managedIdentities" (user-assigned)
  GET  /github/oidc?...&audience=    GitHub Actions' ID token service (Authorization: Bearer "githubRequestToken")
  POST /ado/oidc?api-version=7.1&serviceConnectionId=   Azure DevOps' (Bearer "adoAccessToken")
  GET  /azcli/token?resource=        what tests/fakecloud/az (the Azure CLI stand-in) prints
Token claims: application tokens carry "roles" (scenario "appRoles": {"graph": [...], "exchange": [...]},
default every permission the collector needs) and "wids" (scenario "wids", default Global Reader);
delegated ones carry "scp" (the scopes asked for, or scenario deviceCode.scp {"graph": "...", ...}),
"wids" and "upn". Every issued token is logged as kind "token" with its "method"; every other secret the
fake hands out (device codes, refresh tokens, the OIDC tokens of GitHub and Azure DevOps) as "secret" of
its entry, so that tests can check none of them is ever shown.

The second origin ("FOREIGN <port>" on stdout, same TLS certificate) stands for any other host a
response could send the client to: it answers {"value": []} to everything and logs each request
as kind "foreign" (with whether it carried an Authorization header). A bearer token presented
for another audience than the one it was issued for (a Graph token at Exchange or the reverse)
is logged as kind "tokenMisuse". Tests assert that neither ever happens.

--ground-truth FILE writes, once the tenant is loaded, what a complete collection must hold:
  {"sections": {pointer: value as served}, "perAccount": {pointer: {identity key: object}},
   "groups": {id: group as collected, members limited to users and groups}}
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_SUBJECT = "repo:contoso/mail-audit:ref:refs/heads/main"
ADO_ISSUER = "https://vstoken.dev.azure.com/8d5b1f2e-0000-4000-8000-00000000ad00"
ADO_SUBJECT = "sc://contoso/mail-audit/tenantscan-federated"
ADO_CONNECTION = "3f1c2b4a-0000-4000-8000-0000000000c0"
# The federated identity credentials of the app registration (issuer, subject, audience).
DEFAULT_FEDERATED = [
    {"issuer": GITHUB_ISSUER, "subject": GITHUB_SUBJECT, "audience": "api://AzureADTokenExchange"},
    {"issuer": ADO_ISSUER, "subject": ADO_SUBJECT, "audience": "api://AzureADTokenExchange"},
    {"issuer": "https://issuer.example", "subject": "system:serviceaccount:audit:tenantscan", "audience": "api://AzureADTokenExchange"},
]
EXCHANGE_ANCHOR = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"
MAX_GRAPH_PAGE = 999
DEFAULT_PAGE = 100


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)


def lower_keys(obj):
    return {k.lower(): v for k, v in obj.items()} if isinstance(obj, dict) else {}


class Tenant:
    """The tenant's objects, indexed for the endpoints."""

    def __init__(self, document, synthetic=None):
        self.doc = document
        extra = document.get("fakeCloud", {})
        self.tenant_id = document.get("tenantId", "00000000-0000-0000-0000-000000000000")
        self.client_id = extra.get("clientId", "11111111-2222-3333-4444-555555555555")
        self.domains = [d.lower() for d in extra.get("domains", [])]
        graph = document.get("graph", {})
        exchange = document.get("exchange", {})
        self.policies = graph.get("conditionalAccessPolicies", [])
        self.locations = graph.get("namedLocations", [])
        self.security_defaults = graph.get("securityDefaults", {"id": "00000000-0000-0000-0000-000000000005", "isEnabled": False})
        self.users = list(graph.get("users", []))
        self.groups = {g["id"].lower(): g for g in graph.get("groups", [])}
        self.role_assignments = graph.get("roleAssignments", [])
        self.skus = graph.get("subscribedSkus", [])
        self.sign_ins = self._shift_dates(graph.get("signIns", []), extra.get("staleSignIns", []))
        self.exchange = exchange
        self.what_if = extra.get("whatIf", {})
        generate = dict(extra.get("generate", {}))
        if synthetic:
            generate.update(synthetic)
        self._generate(generate)
        # Per-identity cmdlets look objects up by any of their keys: indexed once, so that 2 000
        # HVE accounts cost the fake no CPU time per request (the benchmark measures the client).
        self.exchange_index = {}
        for section in ("users", "recipients", "casMailboxes"):
            index = self.exchange_index.setdefault(section, {})
            for obj in self.exchange.get(section, []) or []:
                keys = lower_keys(obj)
                for key in ("identity", "userprincipalname", "primarysmtpaddress", "externaldirectoryobjectid", "name"):
                    if isinstance(keys.get(key), str):
                        index.setdefault(keys[key].lower(), obj)

    @staticmethod
    def _shift_dates(sign_ins, stale):
        everything = [dict(s) for s in sign_ins] + [dict(s, stale=True) for s in stale]
        dated = [s for s in everything if s.get("createdDateTime")]
        if not dated:
            return everything
        newest = max(parse_iso(s["createdDateTime"]) for s in dated if not s.get("stale")) if sign_ins else None
        shift = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1) - newest) if newest else datetime.timedelta(0)
        for s in dated:
            s["createdDateTime"] = iso(parse_iso(s["createdDateTime"]) + shift)
        for s in everything:
            s.pop("stale", None)
        return everything

    def _generate(self, spec):
        count = int(spec.get("users", 0))
        for i in range(count):
            self.users.append({
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"user/{i}")),
                "userPrincipalName": f"user{i:06d}@synthetic.example",
                "displayName": f"Synthetic user {i}", "mail": f"user{i:06d}@synthetic.example",
                "userType": "Member", "accountEnabled": True, "onPremisesSyncEnabled": None,
                "proxyAddresses": [f"SMTP:user{i:06d}@synthetic.example"],
            })
        for group_id, members in spec.get("groupMembers", {}).items():
            group = self.groups[group_id.lower()]
            group.setdefault("members", [])
            for i in range(int(members)):
                group["members"].append({"@odata.type": "#microsoft.graph.user",
                                         "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"user/{i}"))})
        groups = int(spec.get("groups", 0))
        referenced = int(spec.get("referencedGroups", 0))
        per_group = int(spec.get("membersPerGroup", 10))
        for g in range(groups):
            gid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"group/{g}"))
            members = [{"@odata.type": "#microsoft.graph.user",
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"user/{(g * per_group + k) % max(count, 1)}"))}
                       for k in range(per_group)]
            if g % 10 == 1:  # some nesting: every tenth group contains the previous one
                members.append({"@odata.type": "#microsoft.graph.group",
                                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"group/{g - 1}"))})
            self.groups[gid] = {"id": gid, "displayName": f"Synthetic group {g}", "isAssignableToRole": False,
                                "securityEnabled": True, "mailEnabled": False, "groupTypes": [], "members": members}
        for p in range(int(spec.get("policies", 0))):
            include = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"group/{(p * 10) % groups}"))] if referenced and p < referenced else []
            self.policies.append({
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"policy/{p}")), "displayName": f"Synthetic policy {p}",
                "state": "enabledForReportingButNotEnforced",
                "conditions": {"users": {"includeUsers": [] if include else ["All"], "excludeUsers": [],
                                         "includeGroups": include, "excludeGroups": [], "includeRoles": [], "excludeRoles": []},
                               "applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"]},
                "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}})
        hve = int(spec.get("hveAccounts", 0))
        if hve:
            accounts = self.exchange.setdefault("hveAccounts", [])
            users = self.exchange.setdefault("users", [])
            recipients = self.exchange.setdefault("recipients", [])
            for h in range(hve):
                address = f"hve{h:05d}@synthetic.example"
                edoid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hve/{h}"))
                accounts.append({"Name": f"hve{h:05d}", "DisplayName": f"hve{h:05d}", "Identity": f"hve{h:05d}",
                                 "PrimarySmtpAddress": address, "ExternalDirectoryObjectId": edoid,
                                 "RecipientTypeDetails": "MailUser", "EmailAddresses": [f"SMTP:{address}"]})
                users.append({"Identity": f"hve{h:05d}", "UserPrincipalName": address,
                              "ExternalDirectoryObjectId": edoid, "AuthenticationPolicy": None})
                recipients.append({"Identity": f"hve{h:05d}", "PrimarySmtpAddress": address,
                                   "ExternalDirectoryObjectId": edoid, "RecipientTypeDetails": "MailUser",
                                   "EmailAddresses": [f"SMTP:{address}"]})

    def find_exchange_object(self, section, identity):
        return self.exchange_index.get(section, {}).get(str(identity).lower())


class Faults:
    def __init__(self, faults):
        self.faults = [dict(f, seen=0, used=0) for f in faults]
        self.lock = threading.Lock()

    def take(self, path, cmdlet, batch):
        with self.lock:
            for fault in self.faults:
                if "path" in fault and not path.startswith(fault["path"]):
                    continue
                if "cmdlet" in fault and fault["cmdlet"].lower() != (cmdlet or "").lower():
                    continue
                if "batch" in fault and bool(fault["batch"]) != batch:
                    continue
                fault["seen"] += 1
                if fault["seen"] <= fault.get("skip", 0):
                    continue
                times = fault.get("times", 1)
                if times != -1 and fault["used"] >= times:
                    continue
                fault["used"] += 1
                return fault
        return None


class Answer:
    def __init__(self, status=200, body=None, headers=None, raw=None, content_type="application/json"):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raw = raw
        self.content_type = content_type

    def payload(self):
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body).encode()


def graph_error(status, code, message):
    return Answer(status, {"error": {"code": code, "message": message,
                                     "innerError": {"date": iso(datetime.datetime.now(datetime.timezone.utc)),
                                                    "request-id": str(uuid.uuid4())}}})


def exchange_error(status, detail):
    return Answer(status, {"error": {"code": "BadRequest" if status == 400 else "NotFound",
                                     "message": "An error has occurred.",
                                     "details": [{"code": "Context", "target": "", "message": detail}]}})


class Cloud:
    def __init__(self, tenant, scenario, app_cert, log_path, latency):
        self.tenant = tenant
        self.scenario = scenario
        self.faults = Faults(scenario.get("faults", []))
        self.app_cert = app_cert
        self.app_thumbprints = self._thumbprints(app_cert) if app_cert else None
        self.secret = os.environ.get("FAKE_CLOUD_CLIENT_SECRET")
        self.tokens = {}
        self.device_codes = {}
        self.refresh_tokens = {}
        self.lock = threading.Lock()
        self.api_requests = 0
        self.expired_once = False
        self.revoked_once = False
        self.foreign_base = None  # the second origin, set once listening
        self.in_flight = 0
        self.log_file = open(log_path, "a", buffering=1) if log_path else None
        self.latency = latency / 1000.0
        self.base = None  # "https://127.0.0.1:PORT", set once listening

    @staticmethod
    def _thumbprints(path):
        der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"], check=True, capture_output=True).stdout
        return b64url(hashlib.sha1(der).digest()), b64url(hashlib.sha256(der).digest())

    def log(self, **entry):
        if self.log_file:
            with self.lock:
                self.log_file.write(json.dumps(entry) + "\n")

    # ---- authentication ------------------------------------------------------------------
    @staticmethod
    def refuse(error, description, status=400):
        return Answer(status, {"error": error, "error_description": description, "error_codes": [0],
                               "timestamp": iso(datetime.datetime.now(datetime.timezone.utc)),
                               "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())})

    def resource_of(self, scope):
        """ "graph" or "exchange" for a scope list of one resource, else None."""
        found = set()
        for item in scope.split():
            if item in ("offline_access", "openid", "profile"):
                continue
            for resource in ("graph", "exchange"):
                if item.startswith(f"{self.base}/{resource}/"):
                    found.add(resource)
                    break
            else:
                return None
        return found.pop() if len(found) == 1 else None

    def resource_uri(self, value):
        value = (value or "").rstrip("/")
        for resource in ("graph", "exchange"):
            if value == f"{self.base}/{resource}":
                return resource
        return None

    def mint(self, resource, method, extra, lifetime=None):
        lifetime = int(self.scenario.get("tokenLifetime", 3599)) if lifetime is None else lifetime
        claims = {"aud": self.base + "/" + resource, "tid": self.tenant.tenant_id, "jti": secrets.token_hex(8)}
        claims.update(extra)
        token = ".".join([b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode()), b64url(json.dumps(claims).encode()),
                          b64url(secrets.token_bytes(24))])
        with self.lock:
            self.tokens[token] = {"resource": resource, "expires": time.time() + lifetime, "expired": False}
        self.log(kind="token", resource=resource, method=method, token=token)
        return token, lifetime

    def app_claims(self, resource, app_id):
        default = {"graph": ["Policy.Read.All", "User.Read.All", "GroupMember.Read.All", "RoleManagement.Read.Directory",
                             "Organization.Read.All", "AuditLog.Read.All"], "exchange": ["Exchange.ManageAsApp"]}
        roles = self.scenario.get("appRoles", default).get(resource, default[resource])
        return {"appid": app_id, "roles": roles, "wids": self.scenario.get("wids", [GLOBAL_READER]), "idtyp": "app"}

    def token_endpoint(self, tenant, form):
        refuse = self.refuse
        if tenant.lower() not in [self.tenant.tenant_id.lower()] + self.tenant.domains:
            return refuse("invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            return self.device_code_poll(form)
        if grant == "refresh_token":
            return self.refresh(form)
        if grant != "client_credentials":
            return refuse("unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
        if form.get("client_id") != self.tenant.client_id:
            return refuse("unauthorized_client", f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found.")
        scope = form.get("scope", "")
        if scope not in (self.base + "/graph/.default", self.base + "/exchange/.default"):
            return refuse("invalid_scope", f"AADSTS1002012: The provided value for scope {scope} is not valid.")
        if "client_secret" in form:
            if self.secret is None or form["client_secret"] != self.secret:
                return refuse("invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                              "being sent in the request is the client secret value, not the client secret ID.", 401)
            method = "secret"
        elif "client_assertion" in form:
            federated = self.is_federated(form["client_assertion"])
            problem = (self.check_federated(form.get("client_assertion_type"), form["client_assertion"]) if federated
                       else self.check_assertion(form.get("client_assertion_type"), form["client_assertion"], tenant))
            if problem:
                return refuse("invalid_client", problem, 401)
            method = "federated" if federated else "certificate"
        else:
            return refuse("invalid_request", "AADSTS7000218: The request body must contain the following parameter: "
                          "'client_assertion' or 'client_secret'.")
        resource = "graph" if scope.startswith(self.base + "/graph/") else "exchange"
        token, lifetime = self.mint(resource, method, self.app_claims(resource, self.tenant.client_id))
        return Answer(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token})

    # ---- workload identity federation -----------------------------------------------------
    @staticmethod
    def is_federated(assertion):
        try:
            header = json.loads(b64url_decode(assertion.split(".")[0]))
        except (ValueError, IndexError):
            return False
        return "x5t" not in header and "x5t#S256" not in header

    def check_federated(self, assertion_type, assertion):
        if assertion_type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return "AADSTS700023: client_assertion_type is not jwt-bearer"
        try:
            claims = json.loads(b64url_decode(assertion.split(".")[1]))
        except (ValueError, IndexError):
            return "AADSTS50027: JWT token is invalid or malformed."
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        for record in self.scenario.get("federated", DEFAULT_FEDERATED):
            if (claims.get("iss") == record["issuer"] and claims.get("sub") == record["subject"]
                    and record.get("audience", "api://AzureADTokenExchange") in audiences):
                break
        else:
            return ("AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: "
                    f"'{claims.get('iss')}'. Assertion Subject: '{claims.get('sub')}'. Assertion Audience: "
                    f"'{','.join(str(a) for a in audiences)}'.")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time():
            return "AADSTS700024: Client assertion is not within its valid time range."
        return None

    def external_jwt(self, issuer, subject, audience, lifetime=300):
        now = int(time.time())
        claims = {"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now, "exp": now + lifetime,
                  "jti": secrets.token_hex(8)}
        return ".".join([b64url(json.dumps({"typ": "JWT", "alg": "RS256", "kid": "fake"}).encode()),
                         b64url(json.dumps(claims).encode()), b64url(secrets.token_bytes(64))])

    def oidc(self, kind, method, query, headers):
        auth = headers.get("Authorization", "")
        expected = self.scenario.get("githubRequestToken" if kind == "github" else "adoAccessToken")
        self.log(kind="oidcRequest", source=kind, audience=query.get("audience", [None])[0],
                 serviceConnectionId=query.get("serviceConnectionId", [None])[0], authorized=auth == f"Bearer {expected}")
        if not expected or auth.lower() != f"bearer {expected}".lower():
            return Answer(401, {"message": "Unauthorized"})
        if kind == "github":
            if method != "GET":
                return Answer(405, {"message": "GET only"})
            audience = query.get("audience", ["https://github.com/contoso"])[0]
            jwt = self.external_jwt(GITHUB_ISSUER, self.scenario.get("githubSubject", GITHUB_SUBJECT), audience)
            self.log(kind="oidcIssued", secret=jwt)
            return Answer(200, {"count": 1, "value": jwt})
        if method != "POST" or query.get("api-version", [None])[0] != "7.1":
            return Answer(400, {"message": "POST with api-version=7.1"})
        connection = query.get("serviceConnectionId", [None])[0]
        if connection != self.scenario.get("adoServiceConnection", ADO_CONNECTION):
            return Answer(404, {"message": f"service connection {connection} not found"})
        jwt = self.external_jwt(ADO_ISSUER, ADO_SUBJECT, "api://AzureADTokenExchange")
        self.log(kind="oidcIssued", secret=jwt)
        return Answer(200, {"oidcToken": jwt})

    # ---- device code (delegated) ----------------------------------------------------------
    def public_client(self):
        return self.scenario.get("publicClientId", self.tenant.client_id)

    def user_claims(self, resource, scope):
        configured = self.scenario.get("deviceCode", {}).get("scp", {})
        scp = configured.get(resource) if resource in configured else " ".join(
            item.rsplit("/", 1)[-1] for item in scope.split() if item not in ("offline_access", "openid", "profile"))
        return {"scp": scp, "upn": "auditor@" + (self.tenant.domains[0] if self.tenant.domains else "contoso.example"),
                "azp": self.public_client(), "oid": "00000000-0000-0000-0000-00000000a0d1",
                "wids": self.scenario.get("wids", [GLOBAL_READER]), "idtyp": "user"}

    def device_authorization(self, tenant, form):
        refuse = self.refuse
        if tenant.lower() not in [self.tenant.tenant_id.lower()] + self.tenant.domains:
            return refuse("invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        if form.get("client_id") != self.public_client():
            return refuse("unauthorized_client", f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found.")
        resource = self.resource_of(form.get("scope", ""))
        if resource is None:
            return refuse("invalid_scope", f"AADSTS70011: The provided value for the input parameter 'scope' is not valid.")
        config = self.scenario.get("deviceCode", {})
        device_code = secrets.token_urlsafe(48)
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        interval = int(config.get("interval", 5))
        with self.lock:
            self.device_codes[device_code] = {"polls": list(config.get("polls", ["approve"])), "scope": form["scope"],
                                              "resource": resource, "interval": interval, "last": time.time()}
        self.log(kind="deviceCode", scope=form["scope"], user_code=user_code, secret=device_code)
        uri = "https://microsoft.com/devicelogin"
        return Answer(200, {"user_code": user_code, "device_code": device_code, "verification_uri": uri,
                            "expires_in": int(config.get("expiresIn", 900)), "interval": interval,
                            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
                                       f"{user_code} to authenticate."})

    def device_code_poll(self, form):
        refuse = self.refuse
        with self.lock:
            state = self.device_codes.get(form.get("device_code"))
            if state is None or form.get("client_id") != self.public_client():
                return refuse("bad_verification_code", "AADSTS70019: Verification code is not recognised.")
            now = time.time()
            too_soon = (round(now - state["last"], 2), state["interval"]) if now - state["last"] < state["interval"] - 0.2 else None
            state["last"] = now
            answer = state["polls"].pop(0) if len(state["polls"]) > 1 else state["polls"][0]
            if answer == "slow_down":
                state["interval"] += 5
        if too_soon:
            self.log(kind="tooSoon", waited=too_soon[0], interval=too_soon[1])
        self.log(kind="devicePoll", answer=answer)
        descriptions = {
            "authorization_pending": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            "slow_down": "AADSTS70016: slow down",
            "authorization_declined": "AADSTS70000: The user declined the authorization request.",
            "expired_token": "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
            "bad_verification_code": "AADSTS70019: Verification code is not recognised.",
        }
        if answer != "approve":
            return refuse(answer, descriptions.get(answer, answer))
        with self.lock:
            self.device_codes.pop(form.get("device_code"), None)
        return self.delegated_token(state["resource"], state["scope"], "deviceCode")

    def delegated_token(self, resource, scope, method):
        token, lifetime = self.mint(resource, method, self.user_claims(resource, scope))
        refresh = secrets.token_urlsafe(64)
        with self.lock:
            self.refresh_tokens[refresh] = True
        self.log(kind="refreshTokenIssued", secret=refresh)
        body = {"token_type": "Bearer", "scope": self.user_claims(resource, scope)["scp"], "expires_in": lifetime,
                "ext_expires_in": lifetime, "access_token": token, "id_token": self.external_jwt(self.base, "auditor", self.public_client())}
        if "offline_access" in scope.split():
            body["refresh_token"] = refresh
        return Answer(200, body)

    def refresh(self, form):
        with self.lock:
            known = self.refresh_tokens.get(form.get("refresh_token"))
        if not known or form.get("client_id") != self.public_client():
            return self.refuse("invalid_grant", "AADSTS9002313: Invalid request. Request is malformed or invalid.")
        resource = self.resource_of(form.get("scope", ""))
        if resource is None:
            return self.refuse("invalid_scope", "AADSTS70011: The provided value for the input parameter 'scope' is not valid.")
        return self.delegated_token(resource, form["scope"], "refreshToken")

    # ---- managed identity and the Azure CLI stand-in --------------------------------------
    def managed_identity(self, path, query, headers):
        imds = path == "/metadata/identity/oauth2/token"
        client_id = query.get("client_id", [None])[0]
        self.log(kind="managedIdentity", style="imds" if imds else "appService", clientId=client_id,
                 apiVersion=query.get("api-version", [None])[0], resource=query.get("resource", [None])[0],
                 metadataHeader=headers.get("Metadata"), identityHeader=headers.get("X-IDENTITY-HEADER") is not None)
        if imds:
            if headers.get("Metadata") != "true":
                return Answer(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
            if query.get("api-version", [None])[0] != "2018-02-01":
                return Answer(400, {"error": "invalid_request", "error_description": "Invalid api-version"})
        else:
            expected = self.scenario.get("identityHeader")
            if not expected or headers.get("X-IDENTITY-HEADER") != expected:
                return Answer(401, {"statusCode": 401, "message": "Unauthorized: X-IDENTITY-HEADER is missing or wrong"})
            if query.get("api-version", [None])[0] != "2019-08-01":
                return Answer(400, {"statusCode": 400, "message": "api-version 2019-08-01 expected"})
        resource = self.resource_uri(query.get("resource", [None])[0])
        if resource is None:
            return Answer(400, {"error": "invalid_resource", "error_description": "AADSTS500011: The resource principal was not found"})
        if client_id is not None and client_id not in self.scenario.get("managedIdentities", []):
            return Answer(400, {"error": "invalid_request", "error_description": "Identity not found"})
        identity = client_id or "99999999-0000-0000-0000-00000000051a"
        token, lifetime = self.mint(resource, "managedIdentity", self.app_claims(resource, identity))
        expires_on = str(int(time.time()) + lifetime)
        if imds:
            return Answer(200, {"access_token": token, "refresh_token": "", "expires_in": str(lifetime),
                                "expires_on": expires_on, "not_before": str(int(time.time())),
                                "resource": query["resource"][0], "token_type": "Bearer"})
        return Answer(200, {"access_token": token, "expires_on": expires_on, "resource": query["resource"][0],
                            "token_type": "Bearer", "client_id": identity})

    def azcli_token(self, query):
        resource = self.resource_uri(query.get("resource", [None])[0])
        self.log(kind="azcli", resource=query.get("resource", [None])[0], tenant=query.get("tenant", [None])[0])
        if resource is None:
            return Answer(400, {"error": f"AADSTS500011: The resource principal named {query.get('resource')} was not found"})
        claims = self.user_claims(resource, "")
        claims["scp"] = self.scenario.get("azCliScp", {}).get(resource, "user_impersonation")
        token, lifetime = self.mint(resource, "azureCli", claims)
        expires = int(time.time()) + lifetime
        return Answer(200, {"accessToken": token, "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires)),
                            "expires_on": expires, "subscription": "00000000-0000-0000-0000-0000000005ab",
                            "tenant": self.tenant.tenant_id, "tokenType": "Bearer"})

    def check_assertion(self, assertion_type, assertion, tenant):
        if assertion_type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return "AADSTS700023: client_assertion_type is not jwt-bearer"
        if not self.app_thumbprints:
            return "AADSTS700027: no certificate registered for the app"
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(b64url_decode(header_b64))
            claims = json.loads(b64url_decode(claims_b64))
            signature = b64url_decode(signature_b64)
        except ValueError:
            return "AADSTS50027: JWT token is invalid or malformed."
        if header.get("alg") != "RS256":
            return "AADSTS5002738: the assertion is not signed with RS256"
        if (header.get("x5t"), header.get("x5t#S256")) != self.app_thumbprints:
            return "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application."
        now = time.time()
        expected_audience = f"{self.base}/login/{tenant}/oauth2/v2.0/token"
        if claims.get("aud") != expected_audience:
            return f"AADSTS700212: No matching federated identity record found for presented assertion audience '{claims.get('aud')}'."
        if claims.get("iss") != self.tenant.client_id or claims.get("sub") != self.tenant.client_id:
            return "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter."
        if not (claims.get("nbf", now + 1) <= now + 60 and claims.get("exp", 0) > now and claims.get("jti")):
            return "AADSTS700024: Client assertion is not within its valid time range."
        with tempfile.TemporaryDirectory() as scratch:
            paths = {name: os.path.join(scratch, name) for name in ("key", "data", "sig")}
            with open(paths["data"], "wb") as f:
                f.write(f"{header_b64}.{claims_b64}".encode())
            with open(paths["sig"], "wb") as f:
                f.write(signature)
            subprocess.run(["openssl", "x509", "-in", self.app_cert, "-pubkey", "-noout", "-out", paths["key"]], check=True)
            verified = subprocess.run(["openssl", "dgst", "-sha256", "-verify", paths["key"], "-signature", paths["sig"],
                                       paths["data"]], capture_output=True)
        if verified.returncode != 0:
            return "AADSTS7000274: The client assertion signature is invalid."
        return None

    def check_bearer(self, headers, resource):
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None, "missing"
        token = auth[len("Bearer "):]
        with self.lock:
            info = self.tokens.get(token)
            expire_after = self.scenario.get("expireTokensAfter")
            self.api_requests += 1
            if expire_after and not self.expired_once and self.api_requests > expire_after:
                self.expired_once = True
                for t in self.tokens.values():
                    t["expired"] = True
            revoke_after = self.scenario.get("revokeTokensAfter")
            if revoke_after and not self.revoked_once and self.api_requests > revoke_after:
                self.revoked_once = True
                for t in self.tokens.values():
                    if self.scenario.get("revokeResource", t["resource"]) == t["resource"]:
                        t["revoked"] = True
        if info is not None and info["resource"] != resource:
            self.log(kind="tokenMisuse", audience=info["resource"], presentedTo=resource)
        if info is None or info["resource"] != resource or info.get("revoked"):
            return token, "invalid"
        if info["expired"] or info["expires"] < time.time():
            return token, "expired"
        return token, None

    # ---- Graph ---------------------------------------------------------------------------
    def page(self, url_path, query, items, page_size, transform=None):
        skip = int(query.get("$skiptoken", ["0"])[0])
        chunk = [transform(i) for i in items[skip:skip + page_size]] if transform else items[skip:skip + page_size]
        body = {"@odata.context": f"{self.base}/graph/v1.0/$metadata#{url_path.rsplit('/', 1)[-1]}", "value": chunk}
        if skip + page_size < len(items):
            params = "&".join(f"{k}={quote(v[0], safe=chr(36) + chr(39) + ',')}" for k, v in query.items() if k != "$skiptoken")
            body["@odata.nextLink"] = f"{self.base}/graph/v1.0{url_path}?{params + '&' if params else ''}$skiptoken={skip + page_size}"
        return body

    def graph_get(self, path, query):
        """path relative to /graph/v1.0 ("/users"); query as parse_qs gives it."""
        top = int(query.get("$top", [str(DEFAULT_PAGE)])[0])
        if top > MAX_GRAPH_PAGE and not path.startswith("/auditLogs"):
            return graph_error(400, "Request_UnsupportedQuery", f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.")
        select = query.get("$select", [None])[0]

        def project(obj):
            if not select:
                return obj
            fields = select.split(",")
            out = {k: v for k, v in obj.items() if k in fields or k == "@odata.type"}
            for f in fields:
                out.setdefault(f, None)
            return out

        if path == "/identity/conditionalAccess/policies":
            return Answer(200, self.page(path, query, self.tenant.policies, DEFAULT_PAGE))
        if path == "/identity/conditionalAccess/namedLocations":
            return Answer(200, self.page(path, query, self.tenant.locations, DEFAULT_PAGE))
        if path == "/policies/identitySecurityDefaultsEnforcementPolicy":
            return Answer(200, dict(self.tenant.security_defaults, **{"@odata.context": f"{self.base}/graph/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy/$entity"}))
        if path == "/users":
            return Answer(200, self.page(path, query, self.tenant.users, top, project))
        if path == "/roleManagement/directory/roleAssignments":
            return Answer(200, self.page(path, query, self.tenant.role_assignments, DEFAULT_PAGE))
        if path == "/subscribedSkus":
            return Answer(200, self.page(path, query, self.tenant.skus, DEFAULT_PAGE))
        if path == "/auditLogs/signIns":
            flt = query.get("$filter", [""])[0]
            if "clientAppUsed eq 'Authenticated SMTP'" not in flt or "createdDateTime ge " not in flt:
                return graph_error(400, "BadRequest", "this fake serves SMTP sign-ins only, filtered by date")
            since = parse_iso(flt.split("createdDateTime ge ")[1].split(" ")[0])
            matching = [s for s in self.tenant.sign_ins if s.get("clientAppUsed") == "Authenticated SMTP"
                        and parse_iso(s["createdDateTime"]) >= since]
            matching.sort(key=lambda s: s["createdDateTime"], reverse=True)
            return Answer(200, self.page(path, query, matching, min(top, 1000)))
        if path == "/groups":
            flt = query.get("$filter", [""])[0]
            groups = list(self.tenant.groups.values())
            if flt:  # by display name only (what the collector asks); no filter lists every group (a naive crawl)
                if not flt.startswith("displayName eq '"):
                    return graph_error(400, "Request_UnsupportedQuery", "this fake filters groups by displayName only")
                name = flt[len("displayName eq '"):-1].replace("''", "'")
                groups = [g for g in groups if g.get("displayName") == name]
            return Answer(200, self.page(path, query, groups, top,
                                         lambda g: project({k: v for k, v in g.items() if k != "members"})))
        parts = path.strip("/").split("/")
        if parts[0] == "groups" and len(parts) in (2, 3):
            group = self.tenant.groups.get(parts[1].lower())
            if group is None:
                return graph_error(404, "Request_ResourceNotFound", f"Resource '{parts[1]}' does not exist or one of its queried reference-property objects are not present.")
            if len(parts) == 2:
                return Answer(200, dict(project({k: v for k, v in group.items() if k != "members"}),
                                        **{"@odata.context": f"{self.base}/graph/v1.0/$metadata#groups/$entity"}))
            if parts[2] == "members":
                return Answer(200, self.page(path, query, group.get("members", []), top))
        return graph_error(404, "UnknownError", f"no such resource in the fake cloud: {path}")

    def what_if(self, body):
        user = body.get("signInIdentity", {}).get("userId", "")
        answers = {a["id"]: a for a in self.tenant.what_if.get(user, [])}
        results = []
        for policy in self.tenant.policies:
            answer = answers.get(policy["id"], {"policyApplies": False, "analysisReasons": "users"})
            results.append(dict(policy, policyApplies=answer["policyApplies"], analysisReasons=answer["analysisReasons"]))
        return Answer(200, {"@odata.context": f"{self.base}/graph/v1.0/$metadata#Collection(microsoft.graph.whatIfAnalysisResult)",
                            "value": results})

    # ---- Exchange ------------------------------------------------------------------------
    def cmdlet(self, name, params, query, url_path):
        single = {"get-organizationconfig": "organizationConfig", "get-transportconfig": "transportConfig"}
        lists = {"get-authenticationpolicy": "authenticationPolicies", "get-hveaccountbillingpolicy": "hveBillingPolicies",
                 "get-accepteddomain": "acceptedDomains", "get-inboundconnector": "inboundConnectors"}
        per_identity = {"get-user": "users", "get-recipient": "recipients", "get-casmailbox": "casMailboxes"}
        key = name.lower()
        if key in single:
            objects = [self.tenant.exchange[single[key]]] if single[key] in self.tenant.exchange else []
        elif key in lists:
            objects = self.tenant.exchange.get(lists[key]) or []
        elif key == "get-mailuser":
            if not params.get("HVEAccount"):
                return exchange_error(400, "Ex0|System.ArgumentException|this fake serves Get-MailUser -HVEAccount only")
            objects = self.tenant.exchange.get("hveAccounts") or []
        elif key in per_identity:
            identity = params.get("Identity")
            found = self.tenant.find_exchange_object(per_identity[key], identity)
            if found is None:
                return exchange_error(404, f"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|"
                                           f"The operation couldn't be performed because object '{identity}' couldn't be found on 'AM0PR05A001DC01.EURPR05A001.prod.outlook.com'.")
            objects = [found]
        else:
            return exchange_error(400, f"Ex0|System.Management.Automation.CommandNotFoundException|The term '{name}' is not recognized as a name of a cmdlet.")
        skip = int(query.get("$skiptoken", ["0"])[0])
        page_size = int(self.scenario.get("exchangePageSize", 1000))
        body = {"@odata.context": f"{self.base}/exchange/adminapi/beta/$metadata#Collection(Exchange.GenericHashTable)",
                "adminapi.warnings@odata.type": "#Collection(String)", "@adminapi.warnings": [],
                "value": objects[skip:skip + page_size]}
        if skip + page_size < len(objects):
            body["@odata.nextLink"] = f"{self.base}{url_path}?$skiptoken={skip + page_size}"
        return Answer(200, body)

    # ---- dispatch ------------------------------------------------------------------------
    def apply_fault(self, fault, answer_fn, token, url):
        action = fault["action"]
        if action == "slow":
            time.sleep(float(fault.get("delay", 2)))
            return answer_fn()
        if action == "status":
            if "graphError" in fault:
                answer = graph_error(fault["status"], fault["graphError"]["code"], fault["graphError"]["message"])
            elif "exchangeError" in fault:
                answer = exchange_error(fault["status"], fault["exchangeError"])
            else:
                answer = Answer(fault["status"], fault.get("body"))
            answer.headers.update(fault.get("headers", {}))
            return answer
        if action == "truncate":
            answer = answer_fn()
            data = answer.payload()
            return Answer(200, raw=data[: len(data) // 2])
        if action == "html":
            return Answer(200, raw=b"<!DOCTYPE html><html><head><title>Sign in to your account</title></head>"
                                   b"<body>Please sign in to continue.</body></html>", content_type="text/html; charset=utf-8")
        if action == "loop":
            answer = answer_fn()
            if isinstance(answer.body, dict):
                answer.body["@odata.nextLink"] = url
            return answer
        if action == "echoToken":
            return graph_error(401, "InvalidAuthenticationToken", f"Access token validation failure. Token: {token}")
        if action == "redirect":
            target = self.base if fault.get("target") == "self" else self.foreign_base
            return Answer(int(fault.get("status", 302)), None, headers={"Location": target + url[len(self.base):]})
        if action == "empty":
            return Answer(int(fault.get("status", 200)), None)
        if action == "huge":
            answer = answer_fn()
            body = dict(answer.body) if isinstance(answer.body, dict) else {"value": []}
            size = int(float(fault.get("megabytes", 40)) * (1 << 20))
            body["padding"] = "x" * size
            return Answer(200, raw=json.dumps(body).encode(), headers={"X-Chunked": "1"} if fault.get("chunked") else {})
        raise ValueError(f"unknown fault action {action}")

    def handle(self, method, raw_path, headers, body, batch=False):
        split = urlsplit(raw_path)
        path, query = unquote(split.path), parse_qs(split.query, keep_blank_values=True)
        url = self.base + raw_path
        if path in ("/msi/token", "/metadata/identity/oauth2/token"):
            return self.managed_identity(path, query, headers)
        if path == "/github/oidc":
            return self.oidc("github", method, query, headers)
        if path == "/ado/oidc":
            return self.oidc("ado", method, query, headers)
        if path == "/azcli/token":
            return self.azcli_token(query)
        if path.startswith("/login/"):
            parts = path.split("/")
            form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            if method == "POST" and len(parts) == 6 and parts[3:] == ["oauth2", "v2.0", "devicecode"]:
                return self.device_authorization(parts[2], form)
            if method != "POST" or len(parts) != 6 or parts[3:] != ["oauth2", "v2.0", "token"]:
                return Answer(404, {"error": "not_found"})
            fault = self.faults.take(path, None, batch)
            if fault:
                return self.apply_fault(fault, lambda: self.token_endpoint(parts[2], form), None, url)
            return self.token_endpoint(parts[2], form)

        resource = "graph" if path.startswith("/graph/") else "exchange" if path.startswith("/exchange/") else None
        if resource is None:
            return Answer(404, {"error": "not_found"})
        token, problem = (None, None) if batch else self.check_bearer(headers, resource)
        cmdlet, params = None, {}
        if resource == "exchange" and method == "POST":
            try:
                cmdlet_input = json.loads(body or b"{}").get("CmdletInput", {})
                cmdlet, params = cmdlet_input.get("CmdletName"), cmdlet_input.get("Parameters", {})
            except ValueError:
                pass
        self.log(kind="api", method=method, path=path, query=split.query, batch=batch, cmdlet=cmdlet,
                 inFlight=self.in_flight)
        if problem == "missing" or problem == "invalid":
            if resource == "exchange":
                return Answer(401, None, headers={"WWW-Authenticate": 'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", '
                                                  'trusted_issuers="00000001-0000-0000-c000-000000000000@*", '
                                                  'token_types="app_asserted_user_v1 service_asserted_app_v1", error="invalid_token"'})
            return graph_error(401, "InvalidAuthenticationToken", "Access token validation failure.")
        if problem == "expired":
            answer = graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
            if resource == "exchange":
                answer.headers["WWW-Authenticate"] = 'Bearer error="invalid_token", error_description="The access token is expired"'
            return answer

        def normal():
            if resource == "graph":
                rel = path[len("/graph/v1.0"):]
                if not path.startswith("/graph/v1.0/"):
                    return graph_error(400, "BadRequest", "only v1.0 is served")
                if method == "GET":
                    return self.graph_get(rel, query)
                if rel == "/$batch":
                    return self.batch(json.loads(body))
                if rel == "/identity/conditionalAccess/evaluate":
                    return self.what_if(json.loads(body))
                return graph_error(405, "BadRequest", "method not allowed")
            if not path.endswith("/InvokeCommand") or method != "POST":
                return exchange_error(404, "no such endpoint")
            tenant_segment = path.split("/")[4] if len(path.split("/")) > 4 else ""
            if tenant_segment.lower() not in [self.tenant.tenant_id.lower()] + self.tenant.domains:
                return exchange_error(400, f"Ex0|System.ArgumentException|unknown tenant '{tenant_segment}'")
            if headers.get("X-AnchorMailbox") != EXCHANGE_ANCHOR + tenant_segment:
                return exchange_error(400, "Ex0|System.ArgumentException|X-AnchorMailbox header missing or wrong")
            return self.cmdlet(cmdlet or "", params or {}, query, path)

        fault = self.faults.take(path, cmdlet, batch)
        if fault:
            return self.apply_fault(fault, normal, token, url)
        return normal()

    def batch(self, request):
        requests = request.get("requests", [])
        if not 1 <= len(requests) <= 20:
            return graph_error(400, "BadRequest", f"A batch must hold 1 to 20 requests; got {len(requests)}.")
        responses = []
        for sub in requests:
            answer = self.handle(sub.get("method", "GET"), "/graph/v1.0" + sub["url"], {}, b"", batch=True)
            responses.append({"id": sub["id"], "status": answer.status,
                              "headers": dict({"Content-Type": "application/json"}, **answer.headers),
                              "body": answer.body if answer.raw is None else answer.raw.decode(errors="replace")})
        return Answer(200, {"responses": responses})


def make_handler(cloud):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK would add 40 ms to every response.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def _serve(self, method):
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else b""
            with cloud.lock:
                cloud.in_flight += 1
            try:
                if cloud.latency:
                    time.sleep(cloud.latency)
                answer = cloud.handle(method, self.path, self.headers, body)
            finally:
                with cloud.lock:
                    cloud.in_flight -= 1
            data = answer.payload()
            chunked = answer.headers.pop("X-Chunked", None) is not None
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(data)))
            for k, v in answer.headers.items():
                self.send_header(k, str(v))
            self.end_headers()
            try:
                if not chunked:
                    self.wfile.write(data)
                    return
                for start in range(0, len(data), 1 << 16):
                    piece = data[start:start + (1 << 16)]
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                self.close_connection = True  # the client stopped reading (a body over its limit)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

    return Handler


def make_foreign_handler(cloud):
    class Foreign(BaseHTTPRequestHandler):
        """Another origin: records what reaches it, answers an empty collection."""
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _serve(self, method):
            length = int(self.headers.get("Content-Length", "0") or 0)
            if length:
                self.rfile.read(length)
            cloud.log(kind="foreign", method=method, path=self.path,
                      authorization="Authorization" in self.headers)
            data = b'{"value": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

    return Foreign


def ground_truth(tenant):
    """What a complete collection of this tenant holds, section by section, as the fake serves it."""
    user_fields = "id,userPrincipalName,displayName,mail,userType,accountEnabled,onPremisesSyncEnabled,proxyAddresses".split(",")
    group_fields = "id,displayName,isAssignableToRole,securityEnabled,mailEnabled,groupTypes".split(",")

    def project(obj, fields):
        out = {k: v for k, v in obj.items() if k in fields or k == "@odata.type"}
        for f in fields:
            out.setdefault(f, None)
        return out

    exchange = tenant.exchange
    sections = {
        "/graph/conditionalAccessPolicies": tenant.policies,
        "/graph/namedLocations": tenant.locations,
        "/graph/securityDefaults": {k: v for k, v in tenant.security_defaults.items() if k != "@odata.context"},
        "/graph/users": [project(u, user_fields) for u in tenant.users],
        "/graph/roleAssignments": tenant.role_assignments,
        "/graph/subscribedSkus": tenant.skus,
        "/graph/signIns": [s for s in tenant.sign_ins if s.get("clientAppUsed") == "Authenticated SMTP"],
    }
    for name in ("organizationConfig", "transportConfig"):
        if name in exchange:
            sections["/exchange/" + name] = exchange[name]
    for name in ("authenticationPolicies", "hveAccounts", "hveBillingPolicies", "acceptedDomains", "inboundConnectors"):
        sections["/exchange/" + name] = exchange.get(name) or []
    per_account = {"/exchange/" + name: tenant.exchange_index.get(name, {}) for name in ("users", "recipients", "casMailboxes")}
    groups = {}
    for gid, group in tenant.groups.items():
        members = [{"@odata.type": m["@odata.type"], "id": m["id"].lower()} for m in group.get("members", [])
                   if m.get("@odata.type") in ("#microsoft.graph.user", "#microsoft.graph.group")]
        groups[gid] = dict(project({k: v for k, v in group.items() if k != "members"}, group_fields), members=members)
    return {"sections": sections, "perAccount": per_account, "groups": groups}


class TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def handle_error(self, request, client_address):
        # A client that gives up (its timeout, a cut connection) is part of the tests, not an error.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, OSError)):
            super().handle_error(request, client_address)

    def finish_request(self, request, client_address):
        # The TLS handshake happens in the request's own thread, so a slow client never
        # holds up the accept loop.
        if self.tls:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


def make_proxy_handler(target_port, log):
    class Proxy(BaseHTTPRequestHandler):
        """An HTTPS proxy (CONNECT only) that tunnels every target to the fake cloud."""

        def log_message(self, *args):
            pass

        def do_CONNECT(self):
            log(kind="proxy", target=self.path)
            upstream = socket.create_connection(("127.0.0.1", target_port))
            self.send_response(200, "Connection established")
            self.end_headers()
            sockets = [self.connection, upstream]

            def pump(src, dst):
                try:
                    while True:
                        data = src.recv(65536)
                        if not data:
                            break
                        dst.sendall(data)
                except OSError:
                    pass
                finally:
                    for s in sockets:
                        try:
                            s.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass

            t = threading.Thread(target=pump, args=(upstream, self.connection), daemon=True)
            t.start()
            pump(self.connection, upstream)
            t.join()
            self.close_connection = True

    return Proxy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--scenario")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--app-cert")
    parser.add_argument("--log")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--synthetic", help="JSON object merged into fakeCloud.generate")
    parser.add_argument("--proxy", action="store_true")
    parser.add_argument("--ground-truth")
    args = parser.parse_args()

    with open(args.tenant, encoding="utf-8-sig") as f:
        document = json.load(f)
    scenario = {}
    if args.scenario:
        with open(args.scenario) as f:
            scenario = json.load(f)
    tenant = Tenant(document, json.loads(args.synthetic) if args.synthetic else None)
    cloud = Cloud(tenant, scenario, args.app_cert, args.log, args.latency_ms)
    if args.ground_truth:
        with open(args.ground_truth, "w") as f:
            json.dump(ground_truth(tenant), f)

    server = TlsServer(("127.0.0.1", 0), make_handler(cloud))
    scheme = "http"
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.tls = context
        scheme = "https"
    port = server.server_address[1]
    cloud.base = scenario.get("publicBase", f"{scheme}://127.0.0.1:{port}").replace("{port}", str(port))
    foreign = TlsServer(("127.0.0.1", 0), make_foreign_handler(cloud))
    foreign.tls = server.tls
    cloud.foreign_base = f"{scheme}://127.0.0.1:{foreign.server_address[1]}"
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    print(f"FOREIGN {foreign.server_address[1]}", flush=True)  # before PORT: readers may stop at PORT
    print(f"PORT {port}", flush=True)
    if args.proxy:
        proxy = ThreadingHTTPServer(("127.0.0.1", 0), make_proxy_handler(port, cloud.log))
        proxy.daemon_threads = True
        print(f"PROXY {proxy.server_address[1]}", flush=True)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
