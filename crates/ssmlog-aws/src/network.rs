//! The network of one member account in one region, read through the EC2 API into the
//! State's terms (`networks[]`, docs/STATE.md); shared by `pull` and `verify`.
//!
//! - VPCs (`DescribeVpcs`), subnets with `MapPublicIpOnLaunch` (`DescribeSubnets`), route
//!   tables with their subnet associations and routes (`DescribeRouteTables`), and VPC
//!   endpoints (`DescribeVpcEndpoints`), every call paginated;
//! - routes: the local route is implied and left out, as are a gateway endpoint's own
//!   routes (`vpce-…`, recorded as the endpoint's route tables) and blackhole routes (their
//!   target is gone: they carry nothing); an internet gateway is `internet-gateway`, a NAT
//!   gateway `nat-gateway`; everything else (transit gateway, peering, virtual private
//!   gateway, an instance or network interface, which may or may not be a NAT) is `other`,
//!   which `check` does not follow;
//! - endpoints: only `available` gateway and interface endpoints (a pending, failed or
//!   deleted one carries no traffic; Gateway Load Balancer and resource endpoints never
//!   reach AWS services); an endpoint whose policy is AWS's default full-access policy is
//!   recorded without a policy file (`hasPolicy` false means exactly that); private DNS
//!   AWS does not report counts as off.

use std::collections::BTreeMap;

use aws_sdk_ec2::types as ec2t;
use serde_json::Value;
use ssmlog_state::{EndpointKind, Route, RouteTable, RouteTarget, Subnet, Vpc, VpcEndpoint};

use crate::connect::AccountClients;
use crate::error::AwsError;
use crate::live::{call, parse_policy};

/// Runs `$body` on every page of a paginated EC2 `Describe*` call (through `call!`, so
/// absent and failed calls are handled as everywhere else); `$send` sends the request for
/// the page after `$token`.
macro_rules! pages {
    ($c:expr, $op:literal, |$token:ident| $send:expr, |$page:ident| $body:block) => {{
        let mut next: Option<String> = None;
        loop {
            let $token = next.take();
            let Some($page) = call!($c, $op, $send)? else {
                break;
            };
            next = $page.next_token.clone().filter(|t| !t.is_empty());
            $body
            if next.is_none() {
                break;
            }
        }
    }};
}

/// The VPCs of the account of `c` in `region`, sorted, each with its subnets, route tables
/// and endpoints sorted by id.
pub(crate) async fn read_network(c: &AccountClients, region: &str) -> Result<Vec<Vpc>, AwsError> {
    let ec2 = c.ec2(region);
    let mut vpcs: BTreeMap<String, Vpc> = BTreeMap::new();

    pages!(
        c,
        "ec2:DescribeVpcs",
        |token| ec2.describe_vpcs().set_next_token(token).send(),
        |page| {
            for v in page.vpcs.unwrap_or_default() {
                if let Some(id) = v.vpc_id {
                    vpcs.insert(
                        id.clone(),
                        Vpc {
                            id,
                            subnets: Vec::new(),
                            route_tables: Vec::new(),
                            endpoints: Vec::new(),
                        },
                    );
                }
            }
        }
    );

    pages!(
        c,
        "ec2:DescribeSubnets",
        |token| ec2.describe_subnets().set_next_token(token).send(),
        |page| {
            for s in page.subnets.unwrap_or_default() {
                let (Some(id), Some(vpc)) = (s.subnet_id, s.vpc_id) else {
                    continue;
                };
                if let Some(v) = vpcs.get_mut(&vpc) {
                    v.subnets.push(Subnet {
                        id,
                        route_table: None,
                        map_public_ip_on_launch: Some(s.map_public_ip_on_launch.unwrap_or(false)),
                    });
                }
            }
        }
    );

    pages!(
        c,
        "ec2:DescribeRouteTables",
        |token| ec2.describe_route_tables().set_next_token(token).send(),
        |page| {
            for t in page.route_tables.unwrap_or_default() {
                let (Some(id), Some(vpc)) = (t.route_table_id, t.vpc_id) else {
                    continue;
                };
                let Some(v) = vpcs.get_mut(&vpc) else {
                    continue;
                };
                let mut main = false;
                for a in t.associations.unwrap_or_default() {
                    main |= a.main.unwrap_or(false);
                    if let Some(subnet) = a.subnet_id {
                        if let Some(s) = v.subnets.iter_mut().find(|s| s.id == subnet) {
                            s.route_table = Some(id.clone());
                        }
                    }
                }
                let mut routes: Vec<Route> = t
                    .routes
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(route)
                    .collect();
                routes.sort_by(|a, b| {
                    (&a.destination, &a.target_id).cmp(&(&b.destination, &b.target_id))
                });
                v.route_tables.push(RouteTable { id, main, routes });
            }
        }
    );

    pages!(
        c,
        "ec2:DescribeVpcEndpoints",
        |token| ec2.describe_vpc_endpoints().set_next_token(token).send(),
        |page| {
            for e in page.vpc_endpoints.unwrap_or_default() {
                let Some(vpc) = e.vpc_id.clone() else {
                    continue;
                };
                let Some(v) = vpcs.get_mut(&vpc) else {
                    continue;
                };
                if let Some(e) = endpoint(c, region, e)? {
                    v.endpoints.push(e);
                }
            }
        }
    );

    let mut out: Vec<Vpc> = vpcs.into_values().collect();
    for v in &mut out {
        v.subnets.sort_by(|a, b| a.id.cmp(&b.id));
        v.route_tables.sort_by(|a, b| a.id.cmp(&b.id));
        v.endpoints.sort_by(|a, b| a.id.cmp(&b.id));
        let mains = v.route_tables.iter().filter(|t| t.main).count();
        if mains != 1 {
            // Every VPC has exactly one main route table; anything else means the VPC
            // changed between the calls.
            return Err(AwsError::new(
                format!("account {}: ec2:DescribeRouteTables in {region}", c.account),
                format!("VPC {} came back with {mains} main route tables (it changed while being read): pull again", v.id),
            ));
        }
    }
    Ok(out)
}

/// One route in the State's terms; `None` for the routes the State leaves out.
fn route(r: ec2t::Route) -> Option<Route> {
    if r.state == Some(ec2t::RouteState::Blackhole) {
        return None;
    }
    let destination = r
        .destination_cidr_block
        .or(r.destination_ipv6_cidr_block)
        .or(r.destination_prefix_list_id)?;
    let gateway = r.gateway_id.filter(|g| !g.is_empty());
    let (target, target_id) = match gateway {
        Some(g) if g == "local" || g.starts_with("vpce-") => return None,
        Some(g) if g.starts_with("igw-") => (RouteTarget::InternetGateway, g),
        Some(g) => (RouteTarget::Other, g),
        None => match r.nat_gateway_id {
            Some(n) => (RouteTarget::NatGateway, n),
            None => (
                RouteTarget::Other,
                r.transit_gateway_id
                    .or(r.vpc_peering_connection_id)
                    .or(r.egress_only_internet_gateway_id)
                    .or(r.instance_id)
                    .or(r.network_interface_id)
                    .or(r.local_gateway_id)
                    .or(r.carrier_gateway_id)
                    .or(r.core_network_arn)
                    .unwrap_or_else(|| "unknown".to_string()),
            ),
        },
    };
    Some(Route {
        destination,
        target,
        target_id,
    })
}

/// One endpoint in the State's terms; `None` for one that carries no traffic to an AWS
/// service (not available, or of another kind).
fn endpoint(
    c: &AccountClients,
    region: &str,
    e: ec2t::VpcEndpoint,
) -> Result<Option<VpcEndpoint>, AwsError> {
    let Some(id) = e.vpc_endpoint_id else {
        return Ok(None);
    };
    // EC2 answers `available` where its API reference (and the SDK's enum) says
    // `Available`: compared without case.
    if e.state
        .as_ref()
        .is_some_and(|s| !s.as_str().eq_ignore_ascii_case("available"))
    {
        return Ok(None);
    }
    // CreateVpcEndpoint's default type is Gateway.
    let kind = match e
        .vpc_endpoint_type
        .as_ref()
        .map(|t| t.as_str().to_ascii_lowercase())
    {
        None => EndpointKind::Gateway,
        Some(t) if t == "gateway" => EndpointKind::Gateway,
        Some(t) if t == "interface" => EndpointKind::Interface,
        Some(_) => return Ok(None),
    };
    let policy = match e
        .policy_document
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        None => None,
        Some(text) => match parse_policy(text) {
            Some(v) if is_default_policy(&v) => None,
            Some(v) => Some(v),
            None => {
                return Err(AwsError::new(
                    format!(
                        "account {}: ec2:DescribeVpcEndpoints in {region}",
                        c.account
                    ),
                    format!("the policy of endpoint {id} is not JSON"),
                ))
            }
        },
    };
    let mut subnets = e.subnet_ids.unwrap_or_default();
    subnets.sort();
    let mut route_tables = e.route_table_ids.unwrap_or_default();
    route_tables.sort();
    Ok(Some(VpcEndpoint {
        id,
        kind,
        service_name: e.service_name.unwrap_or_default(),
        private_dns: kind == EndpointKind::Interface && e.private_dns_enabled.unwrap_or(false),
        subnets: if kind == EndpointKind::Interface {
            subnets
        } else {
            Vec::new()
        },
        route_tables: if kind == EndpointKind::Gateway {
            route_tables
        } else {
            Vec::new()
        },
        policy,
    }))
}

/// AWS's default endpoint policy: one statement allowing everything to everyone, which the
/// State records as "no policy" (`hasPolicy` false).
pub(crate) fn is_default_policy(v: &Value) -> bool {
    let star = |x: &Value| match x {
        Value::String(s) => s == "*",
        Value::Array(a) => a.len() == 1 && a[0] == "*",
        Value::Object(o) => o.len() == 1 && o.get("AWS").is_some_and(|a| a == "*"),
        _ => false,
    };
    let statements = match &v["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => return false,
    };
    let [s] = statements.as_slice() else {
        return false;
    };
    let Some(o) = s.as_object() else { return false };
    let allowed = ["Sid", "Effect", "Principal", "Action", "Resource"];
    o.keys().all(|k| allowed.contains(&k.as_str()))
        && o.get("Effect").is_some_and(|e| e == "Allow")
        && o.get("Principal").is_some_and(star)
        && o.get("Action").is_some_and(star)
        && o.get("Resource").is_some_and(star)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_endpoint_policy_is_recognised_and_nothing_narrower() {
        assert!(is_default_policy(
            &json!({"Version": "2008-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
        ));
        assert!(is_default_policy(&json!({"Statement":
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["*"], "Resource": "*"}})));
        assert!(!is_default_policy(&json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})));
        assert!(!is_default_policy(&json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]})));
        assert!(!is_default_policy(&json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}]})));
    }

    #[test]
    fn routes_in_the_states_terms() {
        let r = |f: fn(ec2t::builders::RouteBuilder) -> ec2t::builders::RouteBuilder| {
            route(f(ec2t::Route::builder().destination_cidr_block("0.0.0.0/0")).build())
        };
        let igw = r(|b| b.gateway_id("igw-1")).map(|r| (r.target, r.target_id));
        assert_eq!(igw, Some((RouteTarget::InternetGateway, "igw-1".into())));
        let nat = r(|b| b.nat_gateway_id("nat-1")).map(|r| r.target);
        assert_eq!(nat, Some(RouteTarget::NatGateway));
        let tgw = r(|b| b.transit_gateway_id("tgw-1")).map(|r| (r.target, r.target_id));
        assert_eq!(tgw, Some((RouteTarget::Other, "tgw-1".into())));
        // A NAT instance cannot be told from any other appliance: not followed.
        let instance = r(|b| b.instance_id("i-1")).map(|r| r.target);
        assert_eq!(instance, Some(RouteTarget::Other));
        assert_eq!(r(|b| b.gateway_id("local")), None);
        assert_eq!(r(|b| b.gateway_id("vpce-1")), None);
        assert_eq!(
            r(|b| b
                .nat_gateway_id("nat-gone")
                .state(ec2t::RouteState::Blackhole)),
            None
        );
    }
}
