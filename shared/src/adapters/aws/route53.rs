//! Route 53 through the SDK: which region a name serves, and moving it.
//!
//! The two regions' records share a name and type and differ by set identifier. With the
//! failover routing policy, moving traffic swaps their PRIMARY/SECONDARY roles; with the
//! weighted policy, it swaps their weights (100/0). Both records change in one atomic batch,
//! and everything else about them (alias targets, values, health checks) stays.

use super::aws_error;
use crate::error::HandlerError;
use crate::ports::{AwsResult, Dns, DnsRecords};
use crate::usecase::region_failover::plan::Side;
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecordSet, ResourceRecordSetFailover, RrType};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SdkRoute53 {
    client: Client,
}

impl SdkRoute53 {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The two records, primary's first.
    async fn pair(&self, records: &DnsRecords) -> AwsResult<(ResourceRecordSet, ResourceRecordSet)> {
        let output = self
            .client
            .list_resource_record_sets()
            .hosted_zone_id(&records.zone)
            .start_record_name(&records.name)
            .start_record_type(RrType::from(records.record_type.as_str()))
            .max_items(20)
            .send()
            .await
            .map_err(|err| aws_error("route53:ListResourceRecordSets", err))?;
        let wanted = records.name.trim_end_matches('.');
        let find = |id: &str| {
            output
                .resource_record_sets
                .iter()
                .find(|r| {
                    r.name.trim_end_matches('.') == wanted
                        && r.r#type.as_str() == records.record_type
                        && r.set_identifier.as_deref() == Some(id)
                })
                .cloned()
                .ok_or_else(|| {
                    HandlerError::Misconfigured(format!(
                        "no {} record {} with set identifier {id} in zone {}",
                        records.record_type, records.name, records.zone
                    ))
                })
        };
        Ok((find(&records.primary_id)?, find(&records.standby_id)?))
    }
}

/// Which side a pair of records sends traffic to.
fn serving_side(primary: &ResourceRecordSet, standby: &ResourceRecordSet) -> Option<Side> {
    match (&primary.failover, &standby.failover) {
        (Some(ResourceRecordSetFailover::Primary), _) => Some(Side::Primary),
        (_, Some(ResourceRecordSetFailover::Primary)) => Some(Side::Standby),
        _ => match (primary.weight, standby.weight) {
            (Some(p), Some(s)) if p >= s && p > 0 => Some(Side::Primary),
            (Some(_), Some(s)) if s > 0 => Some(Side::Standby),
            _ => None,
        },
    }
}

/// The pair rewritten so that `to` serves.
fn pointed_to(mut primary: ResourceRecordSet, mut standby: ResourceRecordSet, to: Side) -> (ResourceRecordSet, ResourceRecordSet) {
    let role = |side: Side| if side == to { (ResourceRecordSetFailover::Primary, 100) } else { (ResourceRecordSetFailover::Secondary, 0) };
    for (record, side) in [(&mut primary, Side::Primary), (&mut standby, Side::Standby)] {
        if record.failover.is_some() {
            record.failover = Some(role(side).0);
        } else if record.weight.is_some() {
            record.weight = Some(role(side).1);
        }
    }
    (primary, standby)
}

impl Dns for SdkRoute53 {
    async fn serving(&self, records: &DnsRecords) -> AwsResult<Option<Side>> {
        let (primary, standby) = self.pair(records).await?;
        Ok(serving_side(&primary, &standby))
    }

    async fn point_to(&self, records: &DnsRecords, to: Side) -> AwsResult<String> {
        let (primary, standby) = self.pair(records).await?;
        let (primary, standby) = pointed_to(primary, standby, to);
        let upsert = |record| Change::builder().action(ChangeAction::Upsert).resource_record_set(record).build();
        let batch = ChangeBatch::builder()
            .comment(format!("Deckhand: traffic to the {side:?} region", side = to))
            .changes(upsert(primary).map_err(|err| aws_error("route53:ChangeResourceRecordSets", err))?)
            .changes(upsert(standby).map_err(|err| aws_error("route53:ChangeResourceRecordSets", err))?)
            .build()
            .map_err(|err| aws_error("route53:ChangeResourceRecordSets", err))?;
        // The SDK retries throttling; a change still pending on the zone is worth a short wait too.
        let mut attempt = 0;
        loop {
            let sent = self.client.change_resource_record_sets().hosted_zone_id(&records.zone).change_batch(batch.clone()).send().await;
            match sent {
                Ok(output) => return Ok(output.change_info.map(|c| c.id).unwrap_or_default()),
                Err(err) if attempt < 3 && err.as_service_error().is_some_and(|e| e.is_prior_request_not_complete()) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(attempt)).await;
                }
                Err(err) => return Err(aws_error("route53:ChangeResourceRecordSets", err)),
            }
        }
    }

    async fn wait_in_sync(&self, change_id: &str, bound: Duration) -> AwsResult<bool> {
        let started = Instant::now();
        loop {
            let output = self.client.get_change().id(change_id).send().await.map_err(|err| aws_error("route53:GetChange", err))?;
            if output.change_info.is_some_and(|c| c.status == ChangeStatus::Insync) {
                return Ok(true);
            }
            if started.elapsed() >= bound {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_secs(5).min(bound)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::ResourceRecord;

    fn record(id: &str, failover: Option<ResourceRecordSetFailover>, weight: Option<i64>) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name("api.example.com.")
            .r#type(RrType::A)
            .set_identifier(id)
            .set_failover(failover)
            .set_weight(weight)
            .ttl(60)
            .resource_records(ResourceRecord::builder().value("192.0.2.1").build().unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn failover_records_swap_roles() {
        let (p, s) = (
            record("us-east-1", Some(ResourceRecordSetFailover::Primary), None),
            record("us-west-2", Some(ResourceRecordSetFailover::Secondary), None),
        );
        assert_eq!(serving_side(&p, &s), Some(Side::Primary));
        let (p2, s2) = pointed_to(p.clone(), s.clone(), Side::Standby);
        assert_eq!(serving_side(&p2, &s2), Some(Side::Standby));
        assert_eq!(
            (p2.failover.clone(), s2.failover.clone()),
            (Some(ResourceRecordSetFailover::Secondary), Some(ResourceRecordSetFailover::Primary))
        );
        assert_eq!(p2.resource_records, p.resource_records, "values stay");
        let (p3, s3) = pointed_to(p2, s2, Side::Primary);
        assert_eq!((p3, s3), (p, s));
    }

    #[test]
    fn weighted_records_swap_weights() {
        let (p, s) = (record("us-east-1", None, Some(100)), record("us-west-2", None, Some(0)));
        assert_eq!(serving_side(&p, &s), Some(Side::Primary));
        let (p2, s2) = pointed_to(p, s, Side::Standby);
        assert_eq!((p2.weight, s2.weight), (Some(0), Some(100)));
        assert_eq!(serving_side(&p2, &s2), Some(Side::Standby));
        assert_eq!(serving_side(&record("a", None, Some(0)), &record("b", None, Some(0))), None);
    }
}
