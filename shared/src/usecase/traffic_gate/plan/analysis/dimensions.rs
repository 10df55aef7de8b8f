//! Where CloudWatch keeps a target group's Application Load Balancer metrics: namespace
//! `AWS/ApplicationELB`, dimensions `TargetGroup` and `LoadBalancer`, both cut from ARNs.

use crate::ports::MetricQuery;
use std::collections::BTreeMap;

/// The `TargetGroup` dimension of a target group's ARN: `targetgroup/NAME/ID`.
pub fn target_group_dimension(arn: &str) -> Option<String> {
    let (_, path) = arn.split_once(":targetgroup/")?;
    let mut parts = path.split('/');
    let (name, id) = (parts.next()?, parts.next()?);
    (parts.next().is_none() && !name.is_empty() && !id.is_empty()).then(|| format!("targetgroup/{name}/{id}"))
}

/// The `LoadBalancer` dimension of an Application Load Balancer's ARN: `app/NAME/ID`; why not,
/// for any other.
pub fn load_balancer_dimension(arn: &str) -> Result<String, String> {
    let path = arn.split_once(":loadbalancer/").map(|(_, path)| path);
    match path.map(|p| p.split('/').collect::<Vec<_>>()).as_deref() {
        Some(["app", name, id]) if !name.is_empty() && !id.is_empty() => Ok(format!("app/{name}/{id}")),
        Some(["net" | "gwy", ..]) => Err("it is not an Application Load Balancer (the analysis reads AWS/ApplicationELB metrics)".into()),
        _ => Err("it is not a load balancer ARN".into()),
    }
}

/// The three metrics of one target group, over `window` seconds: requests, 5xx, p99 latency.
pub fn metric_queries(target_group: &str, load_balancer: &str, window: u32) -> [MetricQuery; 3] {
    let dimensions: BTreeMap<String, String> =
        [("TargetGroup".to_owned(), target_group.to_owned()), ("LoadBalancer".to_owned(), load_balancer.to_owned())].into();
    let query = |name: &str, statistic: &str| MetricQuery {
        namespace: "AWS/ApplicationELB".into(),
        name: name.into(),
        dimensions: dimensions.clone(),
        period: i32::try_from(window).unwrap_or(i32::MAX),
        statistic: statistic.into(),
    };
    [query("RequestCount", "Sum"), query("HTTPCode_Target_5XX_Count", "Sum"), query("TargetResponseTime", "p99")]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/0123456789abcdef";

    #[test]
    fn dimensions_come_from_the_arns() {
        assert_eq!(target_group_dimension(NEW).as_deref(), Some("targetgroup/web-green/0123456789abcdef"));
        for bad in
            ["tg-green", "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web", "arn:x:targetgroup/a/b/c", "arn:x:targetgroup//b"]
        {
            assert_eq!(target_group_dimension(bad), None, "{bad}");
        }
        let alb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188";
        assert_eq!(load_balancer_dimension(alb).as_deref(), Ok("app/shop/50dc6c495c0c9188"));
        let nlb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/shop/50dc6c495c0c9188";
        assert!(load_balancer_dimension(nlb).unwrap_err().contains("not an Application Load Balancer"));
        assert!(load_balancer_dimension("app/shop/1").unwrap_err().contains("not a load balancer ARN"));

        let [requests, errors, latency] = metric_queries("targetgroup/web-green/1", "app/shop/2", 300);
        assert_eq!((requests.name.as_str(), requests.statistic.as_str(), requests.period), ("RequestCount", "Sum", 300));
        assert_eq!((errors.name.as_str(), errors.statistic.as_str()), ("HTTPCode_Target_5XX_Count", "Sum"));
        assert_eq!((latency.name.as_str(), latency.statistic.as_str()), ("TargetResponseTime", "p99"));
        assert_eq!(latency.dimensions.get("LoadBalancer").map(String::as_str), Some("app/shop/2"));
        assert_eq!(latency.namespace, "AWS/ApplicationELB");
    }
}
